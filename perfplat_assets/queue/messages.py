"""The queue's message contract, checked before anything acts on it. Pure.

A message asks for one month, `{"year": 2021, "month": 7}`, or a range of months,
`{"from": {"year": 2021, "month": 3}, "to": {"year": 2026, "month": 10}}`, which is run as one run over
the range, for every service that has the month; either may add `"service": "use-an-lpa"` (a service's
`service` value, as its records carry it: that service alone), `"assets": [...]` (asset keys such as
`make_an_lpa/uptime`, or names such as `uptime` within the services asked for) and `"dry_run": true`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

from perfplat_assets.common.json_input import nesting, repeated_keys
from perfplat_assets.common.months import Month, months_between
from perfplat_assets.services.registry import first_month


class InvalidMessage(ValueError):
    """A message perfplat cannot act on. Its text says why, quoting the message where that helps, for the
    log and the dead-letter queue; `said` is why in perfplat's own words alone (one of `REASONS`), for an
    alert: what a message holds is anyone's text, and an alert must not carry it to a person."""

    def __init__(self, detail: str, said: str) -> None:
        super().__init__(detail)
        self.said = said


NOT_TEXT = "the body is not text"
TOO_LONG = "the body is too long"
TOO_DEEP = "the body is nested too deeply"
NOT_JSON = "not JSON"
NOT_AN_OBJECT = "not a JSON object"
REPEATED_KEY = "a key appears more than once"
BAD_NUMBER = "a number that is not a year or a month"
MONTH_AND_RANGE = "both one month and a range of months"
MISSING_MONTH = "no year or month"
BAD_MONTH = "a year or month that is not a whole number in range"
TOO_EARLY = "a month before the first month perfplat publishes"
NOT_CLOSED = "a month that has not closed yet"
BAD_RANGE = "a range of months that is not from and to a year and month"
BACKWARDS = "a range of months that runs backwards"
UNKNOWN_FIELDS = "unknown fields"
BAD_DRY_RUN = "a dry_run that is not true or false"
UNKNOWN_SERVICE = "a service this deployment does not publish"
BAD_ASSETS = "assets that are not a list of asset names"
UNKNOWN_ASSET = "an asset the pipeline does not have"
REASONS = frozenset(
    {
        NOT_TEXT,
        TOO_LONG,
        TOO_DEEP,
        NOT_JSON,
        NOT_AN_OBJECT,
        REPEATED_KEY,
        BAD_NUMBER,
        MONTH_AND_RANGE,
        MISSING_MONTH,
        BAD_MONTH,
        TOO_EARLY,
        NOT_CLOSED,
        BAD_RANGE,
        BACKWARDS,
        UNKNOWN_FIELDS,
        BAD_DRY_RUN,
        UNKNOWN_SERVICE,
        BAD_ASSETS,
        UNKNOWN_ASSET,
    }
)


# A request is a few dozen bytes: anything much bigger, deeper or longer-numbered is not one, and is refused
# before the JSON parser can spend memory, recursion or Python's integer-conversion limit on it.
MAX_BODY_CHARACTERS = 4096
MAX_NESTING = 4
MAX_NUMBER_CHARACTERS = 12


def _object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    if repeated := repeated_keys(pairs):
        raise InvalidMessage(f"the key {', '.join(map(repr, repeated))} appears more than once", REPEATED_KEY)
    return dict(pairs)


def _number(literal: str) -> int | float:
    if len(literal) > MAX_NUMBER_CHARACTERS:
        raise InvalidMessage(f"a number of {len(literal)} characters is not a year or a month", BAD_NUMBER)
    return float(literal) if any(c in literal for c in ".eE") else int(literal)


def _constant(name: str) -> None:
    raise InvalidMessage(f"{name} is not a number a message may hold", BAD_NUMBER)


def read_json(text: str) -> object:
    """The message body as JSON, within the limits above; any other input is an `InvalidMessage`."""
    if not isinstance(text, str):
        raise InvalidMessage(f"not text: {type(text).__name__}", NOT_TEXT)
    if len(text) > MAX_BODY_CHARACTERS:
        raise InvalidMessage(
            f"a body of {len(text)} characters is too long (at most {MAX_BODY_CHARACTERS})", TOO_LONG
        )
    if nesting(text) > MAX_NESTING:
        raise InvalidMessage(f"nested deeper than {MAX_NESTING} levels: {text[:80]!r}", TOO_DEEP)
    try:
        return json.loads(
            text, object_pairs_hook=_object, parse_int=_number, parse_float=_number, parse_constant=_constant
        )
    except (json.JSONDecodeError, RecursionError, ValueError) as error:
        if isinstance(error, InvalidMessage):
            raise
        raise InvalidMessage(f"not JSON: {text[:80]!r}", NOT_JSON) from None


@dataclass(frozen=True)
class MonthRequest:
    month: Month  # the first month asked for
    assets: tuple[str, ...] | None = None  # asset keys (`make_an_lpa/uptime`); None: every asset asked for
    dry_run: bool = False  # publish nothing; report what publishing would change
    last: Month | None = None  # the last month of a range; None: the one month
    service: str | None = None  # the one service asked for, by name (`use_an_lpa`); None: every service

    @property
    def months(self) -> list[Month]:
        return months_between(self.month, self.last or self.month)

    @property
    def label(self) -> str:
        return f"{self.month}" if self.last in (None, self.month) else f"{self.month}..{self.last}"


def _integer(body: dict[str, object], field: str, where: str = "") -> int:
    if field not in body:
        raise InvalidMessage(
            f'missing {where}{field!r}: a message is {{"year": 2021, "month": 7}}', MISSING_MONTH
        )
    value = body[field]
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidMessage(f"{where}{field!r} must be a whole number, not {value!r}", BAD_MONTH)
    return value


def _month(body: dict[str, object], last_closed: Month | None, where: str = "") -> Month:
    year, month_number = _integer(body, "year", where), _integer(body, "month", where)
    if not 1 <= month_number <= 12:
        raise InvalidMessage(f"{where}month must be 1 to 12, not {month_number}", BAD_MONTH)
    if not 1 <= year <= 9999:
        raise InvalidMessage(f"{where}year {year} is not a year", BAD_MONTH)
    month = Month(date(year, month_number, 1))
    if month < first_month():
        raise InvalidMessage(
            f"{month} is before {first_month()}, the first month perfplat publishes", TOO_EARLY
        )
    if last_closed is not None and month > last_closed:
        raise InvalidMessage(
            f"{month} has not closed yet; the newest month that can be asked for is {last_closed}", NOT_CLOSED
        )
    return month


def _range(body: dict[str, object], last_closed: Month | None) -> tuple[Month, Month]:
    ends = []
    for end in ("from", "to"):
        value = body.get(end)
        if not isinstance(value, dict) or set(value) != {"year", "month"}:
            raise InvalidMessage(f'{end!r} must be {{"year": 2021, "month": 3}}, not {value!r}', BAD_RANGE)
        ends.append(_month(value, last_closed, f"{end}."))
    first, last = ends
    if last < first:
        raise InvalidMessage(f"the range runs backwards: from {first} to {last}", BACKWARDS)
    return first, last


def parse_message(
    text: str,
    *,
    asset_names: Collection[str],
    last_closed: Month | None,
    services: Mapping[str, str] | None = None,
) -> MonthRequest:
    """The month (and optional service and subset of assets) a message asks for.

    `asset_names` are the pipeline's asset keys (`make_an_lpa/uptime`); `services` maps each service's
    `service` value to its name (`use-an-lpa` to `use_an_lpa`); `last_closed` is the newest month that may
    be asked for; None skips that test (for a sender that cannot know when the message will be read).
    """
    body = read_json(text)
    if not isinstance(body, dict):
        raise InvalidMessage(f"not a JSON object: {text[:80]!r}", NOT_AN_OBJECT)
    ranged = "from" in body or "to" in body
    if ranged and ("year" in body or "month" in body):
        raise InvalidMessage(
            "a message names one month (year, month) or a range (from, to), not both", MONTH_AND_RANGE
        )
    month, last = _range(body, last_closed) if ranged else (_month(body, last_closed), None)
    allowed = {"from", "to"} if ranged else {"year", "month"}
    unknown_fields = sorted(set(body) - allowed - {"assets", "dry_run", "service"})
    if unknown_fields:
        raise InvalidMessage(
            f"unknown fields {unknown_fields}; a message has year and month (or from and to) and optionally "
            "service, assets and dry_run",
            UNKNOWN_FIELDS,
        )
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise InvalidMessage(f"'dry_run' must be true or false, not {dry_run!r}", BAD_DRY_RUN)
    service = _service(body, services or {})
    assets = body.get("assets")
    if assets is None:
        return MonthRequest(month, None, dry_run, last, service)
    if not isinstance(assets, list) or not assets or not all(isinstance(a, str) for a in assets):
        raise InvalidMessage(f"'assets' must be a non-empty list of asset names, not {assets!r}", BAD_ASSETS)
    keys = sorted({key for name in assets for key in _asset_keys(name, asset_names, service)})
    return MonthRequest(month, tuple(keys), dry_run, last, service)


def _service(body: dict[str, object], services: Mapping[str, str]) -> str | None:
    """The service the message names, by its `service` value, as perfplat names it; None: every one."""
    value = body.get("service")
    if value is None:
        return None
    if value not in services:
        known = ", ".join(sorted(services))
        raise InvalidMessage(
            f"'service' must be one this deployment publishes ({known}), not {value!r}", UNKNOWN_SERVICE
        )
    return services[str(value)]


def _asset_keys(name: str, asset_names: Collection[str], service: str | None) -> list[str]:
    """The asset keys a message's asset names: itself (`make_an_lpa/uptime`), or each asset of that name
    in the services asked for (`uptime`)."""
    found = [
        key
        for key in asset_names
        if key == name
        or (
            "/" not in name
            and key.endswith(f"/{name}")
            and (service is None or key.startswith(f"{service}/"))
        )
    ]
    if not found or (service is not None and any(not key.startswith(f"{service}/") for key in found)):
        shown = sorted(k for k in asset_names if service is None or k.startswith(f"{service}/"))
        raise InvalidMessage(f"unknown asset {name!r}; the pipeline's assets are {shown}", UNKNOWN_ASSET)
    return found
