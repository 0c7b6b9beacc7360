"""Quality rules as Dagster asset checks, evaluated with every materialisation and shown in the UI.

A failed blocking check fails the step after its results are recorded, so nothing downstream (and so no
publication) runs for the month, and the run's error names the check, the month and the values.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, Failure, MetadataValue

from perfplat_assets.quality.rules import Finding


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    blocking: bool = False


def check_specs(asset: str, checks: Sequence[Check]) -> list[AssetCheckSpec]:
    return [
        AssetCheckSpec(c.name, asset=asset, description=c.description, blocking=c.blocking) for c in checks
    ]


def _metadata(findings: Sequence[Finding]) -> dict[str, object]:
    if not findings:
        return {}
    return {
        "months": ", ".join(sorted({f.month for f in findings})),
        "findings": MetadataValue.md("\n".join(f"- {f.message}" for f in findings)),
        "values": MetadataValue.json({f.month: f.values for f in findings}),
    }


def check_results(
    checks: Sequence[Check], findings: Mapping[str, Sequence[Finding]]
) -> Iterator[AssetCheckResult]:
    """One result per check; then, if a blocking check failed, a `Failure` saying which, when and why."""
    blocked: list[str] = []
    for check in checks:
        found = findings[check.name]
        yield AssetCheckResult(
            check_name=check.name,
            passed=not found,
            severity=AssetCheckSeverity.ERROR if check.blocking else AssetCheckSeverity.WARN,
            description="; ".join(f.message for f in found) or None,
            metadata=_metadata(found),
        )
        if found and check.blocking:
            blocked += [f"{check.name} failed for {f.month}: {f.message}" for f in found]
    if blocked:
        raise Failure(
            description="Blocking quality check failed, so the month is not published. "
            + " | ".join(blocked),
            metadata={"failed_checks": MetadataValue.md("\n".join(f"- {line}" for line in blocked))},
        )
