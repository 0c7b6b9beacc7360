"""Quality rules as Dagster asset checks, evaluated with every materialisation and shown in the UI.

A check that blocks publication fails with ERROR severity and marks the months it failed for: their figures
are stored with the reason in `blocked_by`, and the publication withholds exactly the measure's figures of
those months (the dataset's own check: the whole month), then fails the run naming the check, the month and
the values (a run without the publication fails at the check's own
asset). Months of the same run that passed are published: one bad month in a backfill of two years does not
hold back the other twenty-three. (Dagster's own `blocking` flag would stop every month of the step, so it
is not used.)
"""

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

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

from perfplat_assets.asset_names import DATA_GOV_UK_PUBLICATION, PERFORMANCE_DATASET
from perfplat_assets.common.metadata import figures_metadata, figures_table, markdown_cell
from perfplat_assets.common.months import Month
from perfplat_assets.quality.rules import Check, Finding, Limits

Figures = TypeVar("Figures")


def publication_of(asset: AssetKey) -> AssetKey:
    """The publication of the service whose asset `asset` is: `make_an_lpa/data_gov_uk_publication`."""
    return AssetKey([*asset.path[:-1], DATA_GOV_UK_PUBLICATION])


# What the UI says above a check's own description: Dagster prints "This is a non-blocking asset check." for
# every check here (its `blocking` flag is not used, see above), so the text says what happens in its words.
WITHHOLDS = (
    "Non-blocking in Dagster's sense: the run goes on to the assets downstream. perfplat itself withholds "
    "{what} when it fails (severity ERROR): the publication leaves it out, keeps any earlier publication of "
    "it, and the run fails naming the check. "
)
WARNS = (
    "Non-blocking in Dagster's sense and in perfplat's: when it fails (severity WARN) the failure is "
    "recorded and withholds nothing. "
)


def check_specs(asset: AssetKey, checks: Sequence[Check[Any]]) -> list[AssetCheckSpec]:
    """Each check as Dagster shows it, its text true to what happens: a measure's check that blocks
    publication withholds that measure for the month, the dataset's own the whole month."""
    whole = asset.path[-1] == PERFORMANCE_DATASET
    what = "the whole month" if whole else "this measure's figure for the month"
    return [
        AssetCheckSpec(
            check.name,
            asset=asset,
            description=(WITHHOLDS.format(what=what) if check.blocks_publication else WARNS)
            + check.description,
            metadata={"withholds_when_failed": what if check.blocks_publication else "nothing"},
        )
        for check in checks
    ]


def _metadata(findings: Sequence[Finding]) -> dict[str, object]:
    if not findings:
        return {}
    months = sorted({f.month for f in findings if f.month})
    return {
        "months": ", ".join(map(str, months)),
        "findings": MetadataValue.md("\n".join(f"- {markdown_cell(f.message)}" for f in findings)),
        "values": MetadataValue.json({str(f.month or "?"): f.values for f in findings}),
    }


@dataclass(frozen=True)
class Evaluation:
    results: list[AssetCheckResult]
    blocked: dict[Month | None, list[str]]  # month to why it may not be published

    def blocked_by(self, month: Month) -> str | None:
        return "; ".join(self.blocked.get(month, [])) or None


def evaluate(checks: Sequence[Check[Figures]], figures: Sequence[Figures], limits: Limits) -> Evaluation:
    """One result per check, and the months that checks blocking publication failed for."""
    results, blocked = [], defaultdict(list)
    for check in checks:
        found = check.findings(figures, limits)
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
                blocked[finding.month].append(
                    f"{check.name} failed for {finding.month or '?'}: {finding.message}"
                )
    return Evaluation(results, dict(blocked))


def _marked(figures: Figures, reason: str | None) -> Figures:
    """The figures with every reason that withholds them: a reason they came with (the dataset's values carry
    their measures' blocks) and this asset's own."""
    reasons = [r for r in (getattr(figures, "blocked_by", None), reason) if r]
    return replace(figures, blocked_by="; ".join(dict.fromkeys(reasons)) or None)  # type: ignore[type-var]


def output_with_checks(
    context: AssetExecutionContext,
    checks: Sequence[Check[Figures]],
    figures: Sequence[Figures],
    limits: Limits,
    metadata: Mapping[str, Any],
) -> Iterator[Output[list[Figures]] | AssetCheckResult]:
    """The asset's months, each marked with what blocks its publication, then the check results."""
    evaluation = evaluate(checks, figures, limits)
    marked = [_marked(month, evaluation.blocked_by(month.month)) for month in figures]
    for month in marked:
        if month.blocked_by:
            what = context.asset_key.to_user_string()
            context.log.error(f"{what} for {month.month} will not be published: {month.blocked_by}")
    for month in marked:
        context.add_asset_metadata(figures_metadata(month), partition_key=month.month.key)
    yield Output(marked, metadata={"months": figures_table(marked), **metadata})
    selected = {key.name for key in context.selected_asset_check_keys}
    yield from (result for result in evaluation.results if result.check_name in selected)
    if (
        evaluation.blocked
        and publication_of(context.asset_key) not in context.job_def.asset_layer.selected_asset_keys
    ):
        # No publication step in this run to withhold the month and say why: fail here instead.
        raise Failure(
            "A check blocking publication failed; this run does not publish, so it fails here: "
            + " | ".join(reason for reasons in evaluation.blocked.values() for reason in reasons)
        )
