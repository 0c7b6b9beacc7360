"""Quality rules as Dagster asset checks, evaluated with every materialisation and shown in the UI.

A check that blocks publication fails with ERROR severity and marks the months it failed for: their rows are
stored with the reason in `blocked_by`, and the publication withholds exactly those months, then fails the
run naming the check, the month and the values (a run without the publication fails at the check's own
asset). Months of the same run that passed are published: one bad month in a backfill of two years does not
hold back the other twenty-three. (Dagster's own `blocking` flag would stop every month of the step, so it
is not used.)
"""

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    Failure,
    MetadataValue,
    Output,
)

from perfplat_assets.common.metadata import frame_metadata, per_month
from perfplat_assets.quality.rules import Finding

PUBLICATION = AssetKey("data_gov_uk_publication")


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    blocks_publication: bool = False


def check_specs(asset: str, checks: Sequence[Check]) -> list[AssetCheckSpec]:
    return [
        AssetCheckSpec(
            check.name,
            asset=asset,
            description=("Blocks publication of the month. " if check.blocks_publication else "Warning. ")
            + check.description,
            metadata={"blocks_publication": check.blocks_publication},
        )
        for check in checks
    ]


def _metadata(findings: Sequence[Finding]) -> dict[str, object]:
    if not findings:
        return {}
    return {
        "months": ", ".join(sorted({f.month for f in findings})),
        "findings": MetadataValue.md("\n".join(f"- {f.message}" for f in findings)),
        "values": MetadataValue.json({f.month: f.values for f in findings}),
    }


@dataclass(frozen=True)
class Evaluation:
    results: list[AssetCheckResult]
    blocked: dict[str, list[str]]  # month (YYYY-MM) to why it may not be published

    def blocked_by(self, month_key: str) -> str | None:
        return "; ".join(self.blocked.get(month_key[:7], [])) or None


def evaluate(checks: Sequence[Check], findings: Mapping[str, Sequence[Finding]]) -> Evaluation:
    """One result per check, and the months that checks blocking publication failed for."""
    results, blocked = [], defaultdict(list)
    for check in checks:
        found = findings[check.name]
        results.append(
            AssetCheckResult(
                check_name=check.name,
                passed=not found,
                severity=AssetCheckSeverity.ERROR if check.blocks_publication else AssetCheckSeverity.WARN,
                description="; ".join(f.message for f in found) or None,
                metadata=_metadata(found),
            )
        )
        if check.blocks_publication:
            for finding in found:
                blocked[finding.month].append(f"{check.name} failed for {finding.month}: {finding.message}")
    return Evaluation(results, dict(blocked))


def output_with_checks(
    context: AssetExecutionContext,
    rows: Sequence[dict[str, Any]],
    evaluation: Evaluation,
    metadata: Mapping[str, Any],
) -> Iterator[Output[pd.DataFrame] | AssetCheckResult]:
    """The asset's monthly rows, each marked with what blocks its publication, then the check results."""
    marked = [{**row, "blocked_by": evaluation.blocked_by(row["month"])} for row in rows]
    for row in marked:
        if row["blocked_by"]:
            context.log.error(f"{row['month'][:7]} will not be published: {row['blocked_by']}")
    frame = pd.DataFrame(marked)
    for month, figures in per_month(rows).items():
        context.add_asset_metadata(figures, partition_key=month)
    yield Output(frame, metadata={**frame_metadata(frame), **metadata})
    yield from evaluation.results
    if evaluation.blocked and PUBLICATION not in context.job_def.asset_layer.selected_asset_keys:
        # No publication step in this run to withhold the month and say why: fail here instead.
        raise Failure(
            "A check blocking publication failed; this run does not publish, so it fails here: "
            + " | ".join(reason for reasons in evaluation.blocked.values() for reason in reasons)
        )
