"""A record as OPG publishes it, written out by hand for the files the tests import (never built by the code
under test, so a change to perfplat's format cannot hide in the tests' input)."""

from __future__ import annotations

from perfplat_assets.common.months import Month


def published_record(month: Month, data_type: str, count: object) -> dict:
    return {
        "_timestamp": month.published_timestamp,
        "service": "make-a-lpa",
        "channel": "digital",
        "count": count,
        "dataType": data_type,
        "period": "month",
    }
