"""Take-up figures and the product team's figures file. Pure functions, no Dagster."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from perfplat_assets.common.months import Month
from perfplat_assets.common.rounding import percentage

FIGURES_FILE_COLUMNS = ("month", "digital_applications", "total_applications", "note")


@dataclass(frozen=True)
class TakeUpFigures:
    digital_applications: int
    total_applications: int
    note: str = ""


@dataclass(frozen=True)
class TakeUpResult:
    month: Month
    digital_applications: int | None
    total_applications: int | None
    take_up_percent: float | None
    source: str
    note: str
    not_available_reason: str | None

    def as_row(self) -> dict[str, object]:
        """The month's row in the metrics store."""
        return {"month": self.month.key, **{k: v for k, v in vars(self).items() if k != "month"}}


def digital_take_up(month: Month, figures: TakeUpFigures | None, source: str) -> TakeUpResult:
    """The share to one decimal place, half-up; no applications at all is 'not available', not 0."""
    if figures is None:
        return TakeUpResult(month, None, None, None, source, "", f"{source} has no figures for {month}")
    if figures.total_applications == 0:
        return TakeUpResult(
            month,
            figures.digital_applications,
            0,
            None,
            source,
            figures.note,
            f"{source} recorded no LPA applications in {month}",
        )
    percent = float(percentage(figures.digital_applications, figures.total_applications, 1))
    return TakeUpResult(
        month, figures.digital_applications, figures.total_applications, percent, source, figures.note, None
    )


class FiguresFileError(ValueError):
    """The figures file cannot be used as it is; the message names the file, line and fix."""


def _count(text: str, column: str, where: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise FiguresFileError(f"{where}: {column} must be a whole number, not {text!r}") from None
    if value < 0:
        raise FiguresFileError(f"{where}: {column} must not be negative ({value})")
    return value


def parse_figures(lines: Iterable[str], name: str) -> dict[Month, TakeUpFigures]:
    """Rows `month,digital_applications,total_applications,note`; one row per month."""
    reader = csv.DictReader(lines)
    missing = [column for column in FIGURES_FILE_COLUMNS[:3] if column not in (reader.fieldnames or ())]
    if missing:
        raise FiguresFileError(
            f"{name}: the header must name the columns {', '.join(FIGURES_FILE_COLUMNS)}; "
            f"missing {', '.join(missing)}"
        )
    figures: dict[Month, TakeUpFigures] = {}
    for row in reader:
        where = f"{name} line {reader.line_num}"
        if not any((value or "").strip() for value in row.values()):
            continue
        try:
            month = Month.parse(row["month"] or "")
        except ValueError:
            raise FiguresFileError(f"{where}: month must be YYYY-MM, not {row['month']!r}") from None
        if month in figures:
            raise FiguresFileError(f"{where}: {month} appears twice; keep one row per month")
        figures[month] = TakeUpFigures(
            _count(row["digital_applications"] or "", "digital_applications", where),
            _count(row["total_applications"] or "", "total_applications", where),
            (row.get("note") or "").strip(),
        )
    return figures


def read_figures_file(path: str | Path) -> dict[Month, TakeUpFigures]:
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as lines:
            return parse_figures(lines, str(path))
    except FileNotFoundError:
        raise FiguresFileError(
            f"{path}: no such file. PERFPLAT_TAKEUP_FIGURES_FILE must name the product team's CSV "
            f"(columns {', '.join(FIGURES_FILE_COLUMNS)}), or be unset to read Sirius."
        ) from None
