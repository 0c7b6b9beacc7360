"""Where perfplat meets the network: whether an address is this machine (only there may perfplat talk plain
http or use dummy credentials), and whether a failure means an endpoint was never reached at all.

The second matters for what a message tells a person: "GA4 answered with a server error, re-run later" is
wrong advice when the name did not resolve on this side, and re-running fixes nothing. Every client perfplat
uses says it differently: gRPC reports a DNS failure, a refused connection and a server's own 503 all as
UNAVAILABLE, with the cause only in the details; requests and botocore wrap urllib3's errors, which wrap the
socket's. `unreachable_cause` reads all of them, for GA4 (gRPC and REST), BigQuery, CloudWatch, S3, SQS and
CKAN alike.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import sys
from collections.abc import Iterator

import botocore.exceptions as botocore_errors
import requests
import urllib3.exceptions as urllib3_errors

# Words gRPC's core uses for failures of its own, before any server said anything (grpcio 1.6x-1.8x).
_GRPC_DNS = ("dns resolution failed", "errors resolving", "hostname lookup error", "domain name not found")
_GRPC_NOT_CONNECTED = "failed to connect to all addresses"
_GRPC_ADDRESS = re.compile(r"ipv[46]:(\[[^\]]+\]:\d+|[^\s:]+:\d+)")
_OPENSSL_REASON = re.compile(r"([A-Z][A-Z0-9_]{4,})(: [^:]+)?")
_LONGEST = 200
# The service answered (a status), or was reached and took too long to: not a failure to reach it.
_ANSWERS = (
    botocore_errors.ClientError,
    botocore_errors.ReadTimeoutError,
    requests.HTTPError,
    requests.exceptions.ReadTimeout,
    requests.exceptions.RetryError,
    urllib3_errors.ReadTimeoutError,
    urllib3_errors.ResponseError,
)
# Wrappers that mean "no connection", whatever they wrap: the fallback when nothing inside says more.
_CONNECTION_FAILURES = (
    requests.exceptions.ConnectionError,
    botocore_errors.ConnectionError,
    urllib3_errors.NewConnectionError,
    urllib3_errors.SSLError,
)


def is_loopback(host: str | None) -> bool:
    """`localhost`, any address in 127.0.0.0/8, or `::1` (as `urlsplit(...).hostname` gives them, lower
    case and without brackets); a name that merely starts with "127." is not."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def unreachable_cause(error: BaseException) -> str | None:
    """Why `error` means the endpoint was never reached, in a few words ("the name cannot be resolved
    (DNS)", "the connection to 127.0.0.1:9 was refused", "TLS failed (...)", "the proxy refused the
    connection (...)"); None when the service itself answered, or took too long to (a read timeout), so
    that the caller reports it as the service's answer."""
    grpc = sys.modules.get("grpc")  # a gRPC error can only exist once grpc is loaded
    nodes = list(_chain(error))
    for node in nodes:
        if grpc is not None and isinstance(node, grpc.RpcError):
            return _grpc_cause(node)
        if isinstance(node, _ANSWERS):
            return None
        cause = _cause(node)
        if cause is not None:
            return cause
    if any(isinstance(node, _CONNECTION_FAILURES) for node in nodes):
        return f"the connection failed ({_short(nodes[-1])})"
    return None


def server_error_status(error: BaseException) -> int | None:
    """The HTTP status of a server error (5xx) the service answered with, through botocore or requests;
    None otherwise. Only such an answer, or a timeout, is one a later run may not meet again."""
    if isinstance(error, botocore_errors.ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    elif isinstance(error, requests.HTTPError) and error.response is not None:
        status = error.response.status_code
    else:
        return None
    return status if isinstance(status, int) and status >= 500 else None


def _chain(error: BaseException) -> Iterator[BaseException]:
    """`error` and what it wraps, outermost first: the explicit cause, urllib3's `reason`, botocore's
    `error`, google-api-core's `errors` (and a `RetryError`'s `cause`, as BigQuery's client raises it), an
    exception passed as an argument (requests wraps urllib3 so)."""
    seen: set[int] = set()
    pending = [error]
    while pending and len(seen) < 32:
        node = pending.pop(0)
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        wrapped = [
            node.__cause__,
            None if node.__suppress_context__ else node.__context__,
            getattr(node, "reason", None),
            getattr(node, "original_error", None),
            getattr(node, "cause", None),
            (getattr(node, "kwargs", None) or {}).get("error") if _is_botocore(node) else None,
            *(node.args if isinstance(node.args, tuple) else ()),
        ]
        errors = getattr(node, "errors", None)
        if isinstance(errors, list | tuple):
            wrapped += errors
        pending += [w for w in wrapped if isinstance(w, BaseException)]


def _is_botocore(node: BaseException) -> bool:
    return isinstance(node, botocore_errors.BotoCoreError)


def _cause(node: BaseException) -> str | None:
    """The cause one error names by its type (the most telling first); None if its type says nothing."""
    if isinstance(node, urllib3_errors.ProxyError | requests.exceptions.ProxyError):
        return f"the proxy refused the connection ({_innermost(node)})"
    if isinstance(node, botocore_errors.ProxyConnectionError):
        return f"the proxy {node.kwargs.get('proxy_url', '')} refused the connection ({_innermost(node)})"
    if isinstance(node, ssl.SSLError):
        return f"TLS failed ({_tls_reason(node)})"
    if isinstance(node, urllib3_errors.SSLError | requests.exceptions.SSLError | botocore_errors.SSLError):
        return None  # the wrapped ssl.SSLError says why
    if isinstance(node, urllib3_errors.NameResolutionError | socket.gaierror):
        return "the name cannot be resolved (DNS)"
    if isinstance(node, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(node, urllib3_errors.NewConnectionError) and _refused(node):
        address = f"{node.conn.host}:{node.conn.port}" if getattr(node, "conn", None) else "the endpoint"
        return f"the connection to {address} was refused"
    if isinstance(node, urllib3_errors.ConnectTimeoutError | botocore_errors.ConnectTimeoutError):
        return "the connection timed out before it was made"
    if isinstance(node, botocore_errors.ConnectionClosedError | ConnectionResetError):
        return "the connection was closed before any answer"
    if isinstance(node, urllib3_errors.ProtocolError) and "aborted" in str(node).lower():
        return "the connection was closed before any answer"
    if isinstance(node, urllib3_errors.NewConnectionError):
        return f"the connection could not be made ({_short(node)})"
    return None


def _refused(node: urllib3_errors.NewConnectionError) -> bool:
    return any(isinstance(n, ConnectionRefusedError) for n in _chain(node)) or "refused" in str(node)


def _innermost(node: BaseException) -> str:
    """The last error of a chain, the one that says what actually happened, in short."""
    *_, last = _chain(node)
    return _short(last)


def _tls_reason(error: ssl.SSLError) -> str:
    verify = getattr(error, "verify_message", None)
    reason = error.reason or ""
    return f"{reason}: {verify}" if reason and verify else _short(error)


def _grpc_cause(call: object) -> str | None:
    """gRPC's own failures carry UNAVAILABLE and tell-tale details; a server's 503 carries its message."""
    code, details = getattr(call, "code", None), getattr(call, "details", None)
    if not callable(code) or not callable(details) or getattr(code(), "name", "") != "UNAVAILABLE":
        return None
    text = str(details() or "")
    lowered = text.lower()
    if any(words in lowered for words in _GRPC_DNS):
        return "the name cannot be resolved (DNS)"
    if _GRPC_NOT_CONNECTED not in lowered:
        return None
    last = text.split("last error:")[-1]  # "UNKNOWN: ipv4:127.0.0.1:9: what went wrong"
    found = _GRPC_ADDRESS.search(last)
    at = f" to {found.group(1)}" if found else ""
    said = _short(last[found.end() :].lstrip(": ") if found else last)
    if "proxy" in lowered:
        return f"the proxy{' at ' + found.group(1) if found else ''} refused the connection ({said})"
    if "handshake" in lowered or "ssl" in lowered or "tls" in lowered:
        reason = _OPENSSL_REASON.findall(text.rsplit("OPENSSL_internal:", 1)[-1])
        return f"TLS failed ({''.join(reason[0]) if reason else _short(text)})"
    if "connection refused" in lowered:
        return f"the connection{at} was refused"
    if "timed out" in lowered or "deadline" in lowered:
        return f"the connection{at} timed out before it was made"
    return f"the connection{at} could not be made ({said})"


def _short(error: BaseException | str) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= _LONGEST else text[: _LONGEST - 1] + "…"
