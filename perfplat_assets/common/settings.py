"""How perfplat reads a setting from the environment, checked when the code location loads.

Values that may hold secrets are passed on as `EnvVar`s, so Dagster reads them at run time and never shows
or stores them; their form is checked here all the same, and a refusal never quotes them. `configuration`
reads perfplat's own settings with these, and hands each measure's `sources` module a `Settings` for the
settings of its sources (see docs/ADDING_A_MEASURE.md). This module is the one home of the rules a setting
is checked by: URLs, database URLs, S3 buckets and prefixes, AWS regions, paths, names, tokens, numbers and
flags. What only the runs' machine can judge (whether a directory exists and can be written) is checked at
the run's start (`common.run_start`).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from pathlib import PurePosixPath
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import botocore
from botocore.loaders import create_loader
from dagster import ConfigurableResource, EnvVar
from pydantic import Field
from sqlalchemy.exc import NoSuchModuleError

from perfplat_assets.common.database import parse_url
from perfplat_assets.common.errors import clause
from perfplat_assets.common.measure import Measure
from perfplat_assets.common.methods import MethodSchedule
from perfplat_assets.common.network import is_loopback
from perfplat_assets.common.service import Service
from perfplat_assets.common.sources import SourceResource

Source = TypeVar("Source", bound=SourceResource)


class SettingError(ValueError):
    """A setting that cannot work; the message names the variable and shows a valid example. Raised when
    the code location loads, before any source is asked for anything."""


def is_set(name: str) -> bool:
    return bool(os.environ.get(name, "").strip())


def service_variable(service: Service, name: str, legacy: str | None = None) -> str:
    """The variable holding `service`'s own setting `name`: `PERFPLAT_<SERVICE>_<NAME>`, e.g.
    PERFPLAT_USE_AN_LPA_SATISFACTION_METHODS. For the service perfplat published alone before services were
    declared, the name that setting had then (`legacy`, by default `PERFPLAT_<NAME>`) keeps working while
    the new one is unset; both set to different values is refused, naming both."""
    own = f"{service.setting_prefix}{name}"
    if not service.inherits_single_service_layout:
        return own
    old = legacy or f"PERFPLAT_{name}"
    if is_set(old) and is_set(own) and os.environ[old].strip() != os.environ[own].strip():
        raise SettingError(
            f"{old} and {own} are both set, to different values: {own} is {service}'s, and {old} its name "
            f"before perfplat published several services; unset {old}"
        )
    return old if is_set(old) and not is_set(own) else own


def env(name: str, default: Any = None) -> Any:
    """The variable as an `EnvVar` when set (read at run time, never displayed), else the default."""
    return EnvVar(name) if is_set(name) else default


def given(**fields: str) -> dict[str, EnvVar]:
    """Resource fields whose variable is set, as `EnvVar`s; the others keep the resource's own default, so
    that a default is stated once, beside the field."""
    return {name: EnvVar(variable) for name, variable in fields.items() if is_set(variable)}


def number(
    name: str, default: float, kind: type[int] | type[float], low: float = 0, high: float | None = None
) -> Any:
    """A plain (non-secret) number within [low, high], read now so that a typo is reported at load."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    expected = "a whole number" if kind is int else "a number"
    span = f"from {low:g}" + (f" to {high:g}" if high is not None else "")
    try:
        value = kind(text)
    except ValueError:
        raise SettingError(f"{name} must be {expected}, not {text!r}: {span}, e.g. {default}") from None
    if not (low <= value and (high is None or value <= high)):  # NaN fails too
        raise SettingError(f"{name} must be {expected} {span}, not {text!r}: e.g. {default}")
    return value


TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")


def flag(name: str) -> bool:
    """true/false, 1/0 or yes/no in any case; unset is false. Anything else is refused rather than read as
    false: `PERFPLAT_DRY_RUN=on` must not publish for real."""
    text = os.environ.get(name, "").strip().lower()
    if text in TRUE:
        return True
    if text in (*FALSE, ""):
        return False
    raise SettingError(
        f"{name} must be true or false (or 1/0, yes/no), not {os.environ[name]!r}: e.g. {name}=true"
    )


def text_of(name: str) -> str:
    """The variable's value without surrounding blanks; empty when unset."""
    return os.environ.get(name, "").strip()


# URLs. A refusal shows a URL's scheme, host and port at most: its credentials, path and query may be secrets
# (a Slack webhook's path is one), and a value that is not a URL at all may be a secret set in the wrong
# variable, so it is not shown.
PlainHttp = Literal["loopback", "anywhere"]
URL_RULE = "an http(s) URL without credentials, query or fragment"
_HOST_NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]{0,251}[a-z0-9_])?")
NOT_SHOWN = "its value is not one (not shown, in case it is a secret)"


def shown_url(text: str, path: bool = False) -> str:
    """`text` as a message may show it: `scheme://host:port`, `***@` for credentials, `/…` for the rest;
    with `path`, the path itself (a site's, such as CKAN's, where a message is clearer with it)."""
    try:
        parts = urlsplit(text)
    except ValueError:
        return "a value that is not a URL"
    if not parts.scheme or not parts.netloc:
        return "a value that is not a URL"
    _, at, host_port = parts.netloc.rpartition("@")
    hidden = parts.query or parts.fragment
    rest = "/…" if parts.path.strip("/") or hidden else ""
    if path:
        rest = parts.path + ("?…" if hidden else "")
    return f"{parts.scheme}://{'***@' if at else ''}{host_port}{rest}"


def url_problem(text: str, plain_http: PlainHttp = "loopback") -> str | None:
    """Why `text` cannot be an http(s) URL perfplat may use, quoting at most its scheme, host and port;
    None when it can. Plain http is allowed on this machine only, or (`anywhere`) where nothing secret is
    sent over it (AWS signs its requests, so an endpoint such as docker compose's http://aws:4566 may be
    plain http)."""
    try:
        parts = urlsplit(text)
    except ValueError:  # an unbalanced bracket in the host
        return f"must be {URL_RULE}; {NOT_SHOWN}"
    if not parts.scheme or not parts.netloc:
        return f"must be {URL_RULE}; {NOT_SHOWN}"
    shown = shown_url(text)
    if "@" in parts.netloc:
        return f"must be {URL_RULE}; it carries credentials (user:password@, not shown): remove them"
    if parts.scheme.lower() not in ("http", "https"):
        return f"must be {URL_RULE}, not a {parts.scheme}: URL ({shown})"
    host = parts.hostname or ""
    if not (_HOST_NAME.fullmatch(host) or (":" in host and _is_address(host))):
        return f"must be {URL_RULE} with a host name or address, not {shown}"
    try:
        port = parts.port
    except ValueError:  # not a number, or past 65535
        port = 0
    if port == 0:
        return f"must be {URL_RULE} with a port from 1 to 65535, not {shown}"
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        return f"must be {URL_RULE}; it carries a query or fragment (not shown): remove it"
    if parts.scheme.lower() == "http" and plain_http == "loopback" and not is_loopback(host):
        return f"must use https unless it is on this machine (127.0.0.1, localhost or ::1), not {shown}"
    return None


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def http_url(
    name: str, default: str | None = None, *, example: str, plain_http: PlainHttp = "loopback"
) -> str | None:
    """The variable as an http(s) URL (https unless on this machine, or `plain_http="anywhere"`), checked
    now; else `default`. Credentials in a URL are refused, whichever variable it is: each secret has a
    variable of its own, which Dagster reads at run time and never shows."""
    text = text_of(name) or default
    if text is None:
        return None
    problem = url_problem(text, plain_http)
    if problem is not None:
        raise SettingError(f"{name} {problem}; e.g. {example}")
    return text


def grpc_or_http_endpoint(name: str, *, example: str) -> str | None:
    """A Google API endpoint: `host:port` (gRPC over TLS), an https URL, or a plain-http one on this
    machine (an emulator); checked now by the rule `http_url` applies."""
    text = text_of(name)
    if not text:
        return None
    url = text if "://" in text else f"https://{text}"
    problem = url_problem(url)
    if problem is None and "://" not in text and urlsplit(url).path:
        problem = f"must be {URL_RULE}; {NOT_SHOWN}"
    if problem is not None:
        either = problem.replace("must be ", "must be host:port (gRPC) or ", 1)
        raise SettingError(f"{name} {either}; e.g. {example}")
    return text


# Database URLs: a secret (the password), handed over as an EnvVar; their form is checked now, by SQLAlchemy's
# own parser, whose messages are never passed on (they quote the whole URL).
def database_url(name: str) -> Any:
    """The variable as an `EnvVar` when set, once it parses as a SQLAlchemy URL of a kind SQLAlchemy knows;
    nothing is connected to. A refusal never quotes the URL."""
    text = text_of(name)
    if not text:
        return None
    try:
        parsed = parse_url(text, name)
    except ValueError as error:
        raise SettingError(str(error)) from None
    try:
        parsed.get_dialect()  # the dialect only: its driver is imported when a run connects
    except (NoSuchModuleError, ImportError):
        raise SettingError(
            f"{name} names a kind of database SQLAlchemy does not know ({parsed.drivername}); e.g. "
            "postgresql://user:password@host:5432/db or sqlite:////path/to/file.sqlite"
        ) from None
    return EnvVar(name)


# S3. The rules for general purpose buckets
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html), and for a key prefix the
# characters S3 calls safe, in segments that are never `.` or `..`.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_RESERVED_BUCKET = (
    ("xn--", "sthree-", "amzn-s3-demo-"),
    ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"),
)
BUCKET_RULE = (
    "an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a "
    "letter or digit, no two dots together, not an IP address)"
)
_KEY_SAFE = re.compile(r"[A-Za-z0-9!_.*'()/-]*")
LONGEST_PREFIX = 512  # of S3's 1,024 bytes a key may have: the rest is for the folders and file names


def valid_bucket(bucket: str) -> bool:
    """Whether `bucket` keeps S3's naming rules."""
    starts, ends = _RESERVED_BUCKET
    return bool(
        _BUCKET.fullmatch(bucket)
        and ".." not in bucket
        and not re.fullmatch(r"\d+\.\d+\.\d+\.\d+", bucket)
        and not bucket.startswith(starts)
        and not bucket.endswith(ends)
    )


def s3_bucket(name: str, example: str = "opg-performance-data") -> str | None:
    """The variable as an S3 bucket name, checked now; None when unset."""
    text = text_of(name)
    if text and not valid_bucket(text):
        raise SettingError(f"{name} must be {BUCKET_RULE}, e.g. {example}, not {text!r}")
    return text or None


def prefix_problem(prefix: str) -> str | None:
    """Why `prefix` cannot be a key prefix perfplat writes under, or None."""
    if not _KEY_SAFE.fullmatch(prefix):
        return "letters, digits and ! _ . * ' ( ) - only, in segments separated by /"
    segments = prefix.strip("/").split("/")
    if prefix.strip("/") and any(segment in ("", ".", "..") for segment in segments):
        return "no empty, . or .. segment"
    if len(prefix) > LONGEST_PREFIX:
        return f"at most {LONGEST_PREFIX} characters"
    return None


def s3_prefix(name: str, example: str = "make-an-lpa/") -> str | None:
    """The variable as an S3 key prefix, checked now; None when unset."""
    text = text_of(name)
    problem = prefix_problem(text) if text else None
    if problem:
        raise SettingError(f"{name} must be an S3 key prefix ({problem}), e.g. {example}, not {text!r}")
    return text or None


@cache
def known_regions() -> frozenset[str]:
    """The AWS regions of every partition the installed botocore knows (its own data, read offline)."""
    partitions = create_loader().load_data("partitions")["partitions"]
    return frozenset(
        region
        for partition in partitions
        for region in partition.get("regions", {})
        if not region.endswith("-global")
    )


def aws_region(name: str, default: str | None = None) -> str | None:
    """The variable as an AWS region botocore knows, checked now; else `default`."""
    text = text_of(name)
    if text and text not in known_regions():
        raise SettingError(
            f"{name} must be an AWS region, e.g. eu-west-1, not {text!r} (botocore {botocore.__version__}, "
            "installed here, knows no region of that name)"
        )
    return text or default


PathKind = Literal["directory", "file"]


def absolute_path(name: str, kind: PathKind, example: str) -> str | None:
    """The variable as an absolute path of a form a `kind` can have, checked now; None when unset. Whether
    it exists, and can be read or written, only the run's machine can tell: that is checked when it is
    used."""
    text = text_of(name)
    if not text:
        return None
    path = PurePosixPath(text)
    problem = None
    if not path.is_absolute():
        problem = "an absolute path (the code server's and the runs' working directories may differ)"
    elif len(text.encode()) > 4095 or any(len(part.encode()) > 255 for part in path.parts):
        problem = "a path of at most 4,095 bytes, each name in it at most 255"
    elif kind == "file" and text.endswith("/"):
        problem = "the path of a file, not of a directory (it ends with /)"
    if problem:
        raise SettingError(f"{name} must be {problem}, e.g. {example}, not {text!r}")
    return text


def named(name: str, pattern: re.Pattern[str], what: str, default: str | None = None) -> str | None:
    """The variable when it matches `pattern` (`what` says the rule and gives an example); else `default`.
    For values that are not secrets: a refusal quotes the value."""
    text = text_of(name)
    if text and not pattern.fullmatch(text):
        raise SettingError(f"{name} must be {what}, not {text!r}")
    return text or default


_TOKEN = re.compile(r"[\x21-\x7e]+")  # what an HTTP header may carry: printable ASCII, no blank


def token(name: str, starts: str = "", what: str = "the token") -> Any:
    """A secret, as an `EnvVar` when set, once its form is checked without quoting it: printable ASCII
    without blanks (a line break pasted with it would break the request's header), starting with `starts`."""
    text = text_of(name)
    if not text:
        return None
    if not _TOKEN.fullmatch(text):
        raise SettingError(
            f"{name} holds a blank, a line break or a character outside printable ASCII, which {what} has "
            "not: set it to the token alone (its value is not shown)"
        )
    if not text.startswith(starts):
        raise SettingError(f"{name} must be {what}, which starts with {starts!r} (its value is not shown)")
    return EnvVar(name)


# The embedded sample is a distribution of its own (`sample/` in the checkout), never a dependency of
# perfplat: it is imported by this name, and only when a source's setting is unset.
SAMPLE_MODULE = "perfplat_sample.resources"
INSTALL_SAMPLE = (
    "install the embedded sample from perfplat's checkout (`make install`, or `pip install -e ./sample`)"
)

StandIns = Mapping[type[SourceResource], Callable[..., SourceResource]]


def sample_stand_ins() -> StandIns | None:
    """The embedded sample's stand-in for each kind of source (`STAND_INS`), or None where the sample is not
    installed (a deployment). Imported when first asked for: with every source configured, never."""
    try:
        module = import_module(SAMPLE_MODULE)
    except ModuleNotFoundError as missing:
        if missing.name is not None and SAMPLE_MODULE.startswith(missing.name):
            return None
        raise
    return module.STAND_INS


@dataclass(frozen=True)
class Settings:
    """What a measure's `sources` module builds its source resources with: the data directory; the embedded
    sample's stand-ins come from `sample_stand_ins`, asked only for a source whose settings are unset."""

    data_dir: str

    def source(
        self,
        kind: type[Source],
        configured: bool,
        sample: Callable[..., SourceResource] | None = None,
        **fields: Any,
    ) -> Source:
        """`kind` with `fields` when its settings are `configured`, else its stand-in in the embedded sample
        (`sample`, for a kind of source only its measure reads; else the embedded sample's own), which serves
        the sample and says so to the publication guard. Without the sample installed, an unset source is
        refused here, when the code location loads, naming its setting."""
        if configured:
            return kind(**fields)
        variable = fields.get("variable") or kind.setting
        stand_in = sample
        if stand_in is None:
            stand_ins = sample_stand_ins()
            if stand_ins is None:
                raise SettingError(
                    f"set {variable}: it is unset, and the embedded sample that would stand in for it is "
                    f"not installed; for a demonstration, {INSTALL_SAMPLE}"
                )
            stand_in = stand_ins.get(kind)
        if stand_in is None:
            raise SettingError(f"set {variable}: the embedded sample has no stand-in for {kind.__name__}")
        home = {"data_dir": self.data_dir} if "data_dir" in getattr(stand_in, "model_fields", {}) else {}
        return stand_in(**home, **fields)  # type: ignore[return-value]


def method_schedule(service: Service, measure: Measure) -> MethodSchedule:
    """The methods `measure` is made by in `service`'s series, month by month: its setting
    (`PERFPLAT_<SERVICE>_<Measure.methods_setting>`), else the measure's default; checked now, from the
    service's first month, so that a typo fails the code location."""
    variable = service_variable(service, measure.methods_setting)
    text = os.environ.get(variable, "").strip()
    try:
        schedule = measure.method_schedule(text)
        schedule.starts_by(service.first_month, f"{measure.title.lower()} method")
    except ValueError as error:
        raise SettingError(
            f"{variable}: {clause(error)}. A valid schedule: {measure.default_methods}"
        ) from None
    return schedule


class MethodScheduleSetting(ConfigurableResource):
    """Which method is in force from which month (`YYYY-MM:method,...`), for the measure whose method
    changes over time: the measure computes each month by it, and the publication states it for months it
    imported. Checked at load by the measure's `sources` module."""

    measure: str = Field(description="The measure whose method it is: user_satisfaction.")
    schedule: str = Field(description="e.g. 2021-03:weighted-gds,2026-04:top-two-box")
    methods: list[str] = Field(description="The methods the schedule may name.")
    what: str = Field(description='How a refusal names the schedule: "satisfaction method".')

    def parsed(self) -> MethodSchedule:
        return MethodSchedule.parse(self.schedule, self.methods, self.what)
