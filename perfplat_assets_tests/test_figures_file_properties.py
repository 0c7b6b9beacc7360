"""Whatever the figures file holds, reading it gives figures or a FiguresFileError, never anything else.

Each example is written to a real file and read back with read_figures_file, as the asset reads it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from perfplat_assets.common.months import Month
from perfplat_assets.digital_take_up.calculation import TakeUpFigures
from perfplat_assets.digital_take_up.queries.figures_file import (
    FIGURES_FILE_COLUMNS,
    MAX_MONTHLY_APPLICATIONS,
    FiguresFileError,
    read_figures_file,
)

BOUNDED = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEADER = ",".join(FIGURES_FILE_COLUMNS)


def _read(content: bytes) -> dict[Month, TakeUpFigures] | FiguresFileError:
    """The figures, or the reader's own error; any other exception fails the test by propagating."""
    with tempfile.TemporaryDirectory() as directory:  # hypothesis reuses a test's tmp_path across examples
        path = Path(directory) / "take-up.csv"
        path.write_bytes(content)
        try:
            figures = read_figures_file(path)
        except FiguresFileError as error:
            message = str(error)
            assert message.startswith(str(path)), message  # every message names the file first
            assert len(message) < 1000, "a message quotes values cut short"
            return error
    for month, figure in figures.items():
        assert isinstance(month, Month)
        for count in (figure.digital_applications, figure.total_applications):
            assert type(count) is int and 0 <= count <= MAX_MONTHLY_APPLICATIONS
        assert isinstance(figure.note, str)
    return figures


@BOUNDED
@given(st.binary(max_size=2000))
@example(b"\xff\xfem\x00o\x00")  # UTF-16 with its byte order mark
@example(b"\xef\xbb\xbf")  # a byte order mark and nothing else
@example(b'"')  # an unclosed quote
@example(b"\r")
def test_any_bytes(content):
    _read(content)


@BOUNDED
@given(st.text(max_size=500), st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1"]))
def test_any_text_in_any_encoding(text, encoding):
    _read(text.encode(encoding, errors="replace"))


# Close to a figures file, so that the examples reach the header, the months and the counts.
CELL = st.one_of(
    st.sampled_from(["", " ", "0", "-1", "007", "1.5", "1e3", "+5", "1_000", "2025-05", "2025-13", '"']),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.text(alphabet='0123456789-,."\r\n \t\u0665\ufeff\x00', max_size=12),
    st.text(max_size=8),
)
MONTH = st.one_of(
    st.builds(lambda year, month: f"{year:04d}-{month:02d}", st.integers(0, 9999), st.integers(0, 13)),
    CELL,
)
HEADER_LINE = st.one_of(
    st.just(HEADER),
    st.permutations(list(FIGURES_FILE_COLUMNS)).map(",".join),
    st.lists(st.sampled_from([*FIGURES_FILE_COLUMNS, "Month", "", "total"]), max_size=6).map(",".join),
)
ROW = st.tuples(MONTH, CELL, CELL, CELL).map(",".join)
FILE = st.builds(
    lambda bom, header, rows, newline: bom + newline.join([header, *rows]),
    st.sampled_from(["", "\ufeff"]),
    HEADER_LINE,
    st.lists(ROW, max_size=8),
    st.sampled_from(["\n", "\r\n", "\r"]),
)


@BOUNDED
@given(FILE)
def test_any_file_shaped_like_a_figures_file(text):
    _read(text.encode("utf-8"))


@BOUNDED
@given(
    st.lists(
        st.tuples(
            st.builds(Month.of, st.integers(2021, 2030), st.integers(1, 12)),
            st.integers(0, MAX_MONTHLY_APPLICATIONS),
            st.integers(0, MAX_MONTHLY_APPLICATIONS),
            st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"])),
        ),
        unique_by=lambda row: row[0],
        max_size=12,
    ),
    st.sampled_from(["", "\ufeff"]),
)
def test_a_good_file_reads_back_exactly(rows, bom):
    lines = [HEADER] + [f'{m.label},{d},{t},"{note.replace(chr(34), chr(34) * 2)}"' for m, d, t, note in rows]
    figures = _read((bom + "\n".join(lines) + "\n").encode("utf-8"))
    assert figures == {m: TakeUpFigures(d, t, note.strip()) for m, d, t, note in rows}
