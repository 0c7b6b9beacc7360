"""The performance dataset: how a month's four measures become values by published dataType. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Sequence

from perfplat_assets.common.months import Month
from perfplat_assets.completion_rate.rate import CompletionRate
from perfplat_assets.digital_take_up.take_up import DigitalTakeUp
from perfplat_assets.publication.records import DatasetValue
from perfplat_assets.uptime.availability import Uptime
from perfplat_assets.user_satisfaction.scoring import UserSatisfaction

Measure = UserSatisfaction | DigitalTakeUp | CompletionRate | Uptime


def month_measures(
    satisfaction: UserSatisfaction | None,
    take_up: DigitalTakeUp | None,
    completion: CompletionRate | None,
    availability: Uptime | None,
) -> tuple[dict[str, float], dict[str, str]]:
    """A month's values by dataType, and the reason each measure left out is missing.

    A measure without data is left out, never published as 0.
    """
    values: dict[str, float] = {}
    missing: dict[str, str] = {}
    if satisfaction is None or satisfaction.satisfaction_percent is None:
        missing["user-satisfaction"] = _reason(
            satisfaction, "user satisfaction was not computed for this month"
        )
    else:
        values["user-satisfaction-percent"] = satisfaction.satisfaction_percent
        values |= satisfaction.counts.published()
    if take_up is None or take_up.take_up_percent is None:
        missing["digital-take-up"] = _reason(take_up, "digital take-up was not computed for this month")
    else:
        values["digital-take-up"] = take_up.take_up_percent
    if completion is None or completion.completion_rate_percent is None:
        missing["completion-rate"] = _reason(
            completion, "the completion rate was not computed for this month"
        )
    else:
        values["completion-rate"] = completion.completion_rate_percent
    if availability is None or availability.uptime_percent is None:
        missing["uptime"] = _reason(availability, "uptime was not computed for this month")
    else:
        values["uptime-percent"] = availability.uptime_percent
    return values, missing


def _reason(figures: Measure | None, default: str) -> str:
    return (figures.not_available_reason if figures else None) or default


def dataset_values(
    months: Sequence[Month],
    satisfaction: Sequence[UserSatisfaction],
    take_up: Sequence[DigitalTakeUp],
    completion: Sequence[CompletionRate],
    availability: Sequence[Uptime],
) -> tuple[list[DatasetValue], dict[str, str]]:
    """The months' values by published dataType, and notes for people: each month withheld because a check
    blocked one of its measures upstream, and each measure left out, with why. A withheld month's values
    carry the reason (`blocked_by`), so the publication learns it from its input, not behind Dagster's
    back."""
    measures = [
        {item.month: item for item in items} for items in (satisfaction, take_up, completion, availability)
    ]
    values: list[DatasetValue] = []
    notes: dict[str, str] = {}
    for month in months:
        upstream = [by_month.get(month) for by_month in measures]
        blocked = "; ".join(f.blocked_by for f in upstream if f and f.blocked_by) or None
        found, missing = month_measures(*upstream)  # type: ignore[arg-type]
        values += [DatasetValue(month, data_type, value, blocked) for data_type, value in found.items()]
        if blocked:
            notes[f"withheld {month}"] = blocked
        else:
            notes.update({f"left out {month} {measure}": reason for measure, reason in missing.items()})
    return values, notes
