"""The product team's figures file: its format, and the bounded reader that names the file, line and fix of
anything wrong in it."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable
from pathlib import Path

from perfplat_assets.common.errors import clause
from perfplat_assets.common.files import FileRefused, byte_order_mark, line_of, read_bounded
from perfplat_assets.common.months import Month
from perfplat_assets.digital_take_up.calculation import TakeUpFigures

FIGURES_FILE_COLUMNS = ("month", "digital_applications", "total_applications", "note")


class FiguresFileError(ValueError):
    """The figures file cannot be used as it is; the message names the file, line and fix."""


SETTING = "PERFPLAT_TAKEUP_FIGURES_FILE"
MAX_MONTHLY_APPLICATIONS = 10_000_000  # LPAs received run at tens of thousands a month; more is a typo
MAX_FILE_BYTES = 10_000_000  # one row a month; a file this large is not the figures file
_HEADER = ",".join(FIGURES_FILE_COLUMNS)
_WHOLE_NUMBER = re.compile(r"[0-9]+")
_NEGATIVE = re.compile(r"-[0-9]+")
_SAVE_AS_UTF8 = 'save it as UTF-8 (in Excel: "CSV UTF-8 (Comma delimited)")'


def _shown(text: str, limit: int = 40) -> str:
    """A value as the message quotes it: repr, cut short so a huge cell cannot flood the log."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text)} characters)"


def _count(text: str, column: str, where: str) -> int:
    value = text.strip()
    if _NEGATIVE.fullmatch(value):
        raise FiguresFileError(f"{where}: {column} must not be negative ({_shown(value)})")
    if not _WHOLE_NUMBER.fullmatch(value):
        raise FiguresFileError(f"{where}: {column} must be a whole number, not {_shown(text)}")
    if len(value) > len(str(MAX_MONTHLY_APPLICATIONS)) or int(value) > MAX_MONTHLY_APPLICATIONS:
        raise FiguresFileError(
            f"{where}: {column} is {_shown(value)}, more than the {MAX_MONTHLY_APPLICATIONS:,} applications "
            "a month this file may hold; check the figure"
        )
    return int(value)


def _header(header: list[str], where: str) -> dict[str, int]:
    """The column each name is in; the note is optional, anything else is an error on the header's line."""
    names = [cell.strip() for cell in header]
    expected = f"the header must be {_HEADER}"
    if names and _is_month(names[0]):
        raise FiguresFileError(
            f"{where} is a row of figures, not the header: the file must start with {_HEADER}"
        )
    positions: dict[str, int] = {}
    for position, column in enumerate(names, start=1):
        if column in positions:
            raise FiguresFileError(f"{where}: column {column!r} appears twice in the header; {expected}")
        if column not in FIGURES_FILE_COLUMNS:
            what = f"column {position} has no name" if not column else f"unexpected column {_shown(column)}"
            raise FiguresFileError(f"{where}: {what}; {expected}")
        positions[column] = position - 1
    missing = [column for column in FIGURES_FILE_COLUMNS[:3] if column not in positions]
    if missing:
        raise FiguresFileError(
            f"{where}: the header must name the columns {', '.join(FIGURES_FILE_COLUMNS)}; "
            f"missing {', '.join(missing)}"
        )
    return positions


def _is_month(text: str) -> bool:
    try:
        Month.parse(text)
    except ValueError:
        return False
    return True


def parse_figures(lines: Iterable[str], name: str) -> dict[Month, TakeUpFigures]:
    """Rows `month,digital_applications,total_applications,note`; one row per month.

    Digital applications above the total are read as they are: the blocking check `digital_within_total`
    withholds that month alone, so the file's other months are still published.
    """
    reader = csv.reader(lines)
    figures: dict[Month, TakeUpFigures] = {}
    first_seen: dict[Month, int] = {}
    columns: dict[str, int] | None = None
    line = 1  # where the row being read starts: a quoted note may span lines
    try:
        for cells in reader:
            row_line, line = line, reader.line_num + 1
            where = f"{name} line {row_line}"
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, before the header or between rows
            if columns is None:
                columns = _header(cells, where)
                continue
            if len(cells) != len(columns):
                raise FiguresFileError(
                    f"{where}: {len(cells)} values, but the header has {len(columns)} columns ({_HEADER}); "
                    "a note holding a comma must be in double quotes"
                )
            text = cells[columns["month"]]
            try:
                month = Month.parse(text)
            except ValueError:
                raise FiguresFileError(f"{where}: month must be YYYY-MM, not {_shown(text)}") from None
            if month in figures:
                raise FiguresFileError(
                    f"{where}: {month} appears twice (first on line {first_seen[month]}); "
                    "keep one row per month"
                )
            first_seen[month] = row_line
            figures[month] = TakeUpFigures(
                _count(cells[columns["digital_applications"]], "digital_applications", where),
                _count(cells[columns["total_applications"]], "total_applications", where),
                cells[columns["note"]].strip() if "note" in columns else "",
            )
    except csv.Error as error:
        raise FiguresFileError(f"{name} line {line}: not readable as CSV ({error})") from None
    if columns is None:
        raise FiguresFileError(f"{name} is empty: it must start with the header {_HEADER}")
    return figures


def _not_readable(path: Path, problem: str) -> FiguresFileError:
    return FiguresFileError(
        f"{path}: {clause(problem)}. {SETTING} must name the product team's CSV "
        f"(columns {', '.join(FIGURES_FILE_COLUMNS)}), or be unset to read Sirius."
    )


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, read with the bounds of every file perfplat is handed (common/files.py)."""
    # Raised after the `try`, so that the refusal carries no chained OSError and FileRefused (a ValueError)
    # is not taken for a path's ValueError.
    try:
        return read_bounded(path, MAX_FILE_BYTES, "the figures file (one row a month)")
    except FileRefused as refused:
        problem = str(refused)
    except (FileNotFoundError, NotADirectoryError):
        problem = "no such file"
    except PermissionError:
        problem = "cannot be read (permission denied): let perfplat's user read it"
    except (OSError, ValueError) as error:  # ValueError: a path holding a NUL character
        problem = f"cannot be read ({error})"
    raise _not_readable(path, problem)


def _decode(data: bytes, path: Path) -> str:
    """UTF-8, with or without a byte order mark; anything else is named as precisely as it can be."""
    encoding = byte_order_mark(data)
    if encoding and encoding != "UTF-8":
        raise FiguresFileError(
            f"{path}: is {encoding} (it starts with a {encoding.split()[0]} byte order mark), not UTF-8; "
            f"{_SAVE_AS_UTF8}"
        )
    if b"\0" in data:  # UTF-8 text never holds a NUL byte; UTF-16 without a byte order mark is full of them
        offset = data.index(b"\0")
        looks = "it looks like UTF-16 without a byte order mark" if data.count(b"\0") * 3 >= len(data) else ""
        raise FiguresFileError(
            f"{path} line {line_of(data, offset)}: a NUL byte at byte offset {offset}, so not UTF-8 text"
            f"{'; ' + looks if looks else ''}; {_SAVE_AS_UTF8}"
        )
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = bom + error.start
        try:
            data.decode("cp1252")
            looks = "; it looks like Windows-1252 or Latin-1"
        except UnicodeDecodeError:
            looks = ""
        raise FiguresFileError(
            f"{path} line {line_of(data, offset)}: not UTF-8: byte 0x{data[offset]:02X} at byte offset "
            f"{offset} is not valid UTF-8{looks}; {_SAVE_AS_UTF8}"
        ) from None


def read_figures_file(path: str | Path) -> dict[Month, TakeUpFigures]:
    """The figures in the file, or a FiguresFileError naming the file, the line and what to fix."""
    if not str(path).strip():
        raise FiguresFileError(
            f"{SETTING} is empty: name the product team's CSV, or unset it to read Sirius."
        )
    path = Path(path)
    text = _decode(_read_bytes(path), path)
    return parse_figures(io.StringIO(text, newline=""), str(path))
