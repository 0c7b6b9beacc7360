"""Whether an address is this machine: only there may perfplat talk plain http or use dummy credentials."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str | None) -> bool:
    """`localhost`, any address in 127.0.0.0/8, or `::1` (as `urlsplit(...).hostname` gives them, lower
    case and without brackets); a name that merely starts with "127." is not."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False
