"""Digital take-up's checks: each rule, and the check that holds it. Pure: no Dagster."""

from __future__ import annotations

from collections.abc import Sequence

from perfplat_assets.digital_take_up.calculation import DigitalTakeUp
from perfplat_assets.quality.rules import Check, Finding, Limits, outside_0_100


def digital_within_total(take_up: Sequence[DigitalTakeUp], _: Limits) -> list[Finding]:
    findings = []
    for r in take_up:
        digital, total, percent = r.digital_applications, r.total_applications, r.take_up_percent
        if digital is not None and total is not None and digital > total:
            message = f"more digital applications ({digital}) than applications in all ({total})"
        elif outside_0_100(percent):
            message = f"take-up of {percent}% is outside 0..100"
        else:
            continue
        findings.append(
            Finding(
                r.month,
                f"digital take-up {r.month} ({r.source}): {message}",
                {"digital_applications": digital, "total_applications": total, "take_up_percent": percent},
            )
        )
    return findings


CHECKS: tuple[Check[DigitalTakeUp], ...] = (
    Check(
        digital_within_total,
        "Digital applications never exceed all applications; the take-up is within 0..100.",
        blocks_publication=True,
    ),
)
