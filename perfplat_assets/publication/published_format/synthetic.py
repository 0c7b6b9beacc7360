"""What every file a person reads says of figures computed from the embedded sample: that they are made up.
Pure: the months come from the plan, which has them from the metrics store."""

from __future__ import annotations

from collections.abc import Collection

from perfplat_assets.common.months import Month, spans

PUBLISHER = "Published by the Office of the Public Guardian."
NOT_PUBLISHED = (
    "Made by perfplat from its embedded sample: not published by the Office of the Public Guardian."
)


def synthetic_notice(months: Collection[Month]) -> str | None:
    """The sentence that heads the notes, the report and the index while any published month is synthetic;
    None when none is."""
    if not months:
        return None
    return (
        f"Synthetic figures: the figures for {spans(months)} were computed from perfplat's embedded sample, "
        "made-up data for demonstrations and tests. They are not the Office of the Public Guardian's "
        "statistics."
    )


def publisher_line(months: Collection[Month], published: Collection[Month]) -> str:
    """Who published the series: OPG, unless every month of it is synthetic."""
    return NOT_PUBLISHED if published and set(published) <= set(months) else PUBLISHER
