"""The queue's message contract, `{"year": 2021, "month": 7}`, checked before anything acts on it. Pure."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from perfplat_assets.common.months import FIRST_MONTH, Month


class InvalidMessage(ValueError):
    """A message perfplat cannot act on; the text says why, for the log and the dead-letter queue."""


@dataclass(frozen=True)
class MonthRequest:
    month: Month
    assets: tuple[str, ...] | None = None  # None: every asset of the pipeline
    dry_run: bool = False  # publish nothing; report what publishing would change


def _integer(body: dict[str, object], field: str) -> int:
    if field not in body:
        raise InvalidMessage(f'missing {field!r}: a message is {{"year": 2021, "month": 7}}')
    value = body[field]
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidMessage(f"{field!r} must be a whole number, not {value!r}")
    return value


def parse_message(text: str, *, asset_names: Collection[str], last_closed: Month | None) -> MonthRequest:
    """The month (and optional subset of assets) a message asks for.

    `last_closed` is the newest month that may be asked for; None skips that test (for a sender that
    cannot know when the message will be read).
    """
    try:
        body = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        raise InvalidMessage(f"not JSON: {text[:80]!r}") from None
    if not isinstance(body, dict):
        raise InvalidMessage(f"not a JSON object: {text[:80]!r}")
    year, month_number = _integer(body, "year"), _integer(body, "month")
    if not 1 <= month_number <= 12:
        raise InvalidMessage(f"month must be 1 to 12, not {month_number}")
    if not 1 <= year <= 9999:
        raise InvalidMessage(f"year {year} is not a year")
    month = Month(date(year, month_number, 1))
    if month < Month(FIRST_MONTH):
        raise InvalidMessage(f"{month} is before {Month(FIRST_MONTH)}, the first month perfplat publishes")
    if last_closed is not None and month > last_closed:
        raise InvalidMessage(
            f"{month} has not closed yet; the newest month that can be asked for is {last_closed}"
        )
    unknown_fields = sorted(set(body) - {"year", "month", "assets", "dry_run"})
    if unknown_fields:
        raise InvalidMessage(
            f"unknown fields {unknown_fields}; a message has year, month and optionally assets and dry_run"
        )
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise InvalidMessage(f"'dry_run' must be true or false, not {dry_run!r}")
    assets = body.get("assets")
    if assets is None:
        return MonthRequest(month, None, dry_run)
    if not isinstance(assets, list) or not assets or not all(isinstance(a, str) for a in assets):
        raise InvalidMessage(f"'assets' must be a non-empty list of asset names, not {assets!r}")
    unknown = sorted(set(assets) - set(asset_names))
    if unknown:
        raise InvalidMessage(f"unknown assets {unknown}; the pipeline's assets are {sorted(asset_names)}")
    return MonthRequest(month, tuple(sorted(set(assets))), dry_run)
