"""Files perfplat is handed are untrusted: a link, a pipe, a device, a directory, a huge or deeply nested
file is refused in one line naming the file and the limit, before anything is read beyond it or imported;
and text from a file cannot break the metadata tables it is shown in.

`perfplat import-published` runs as the installed command, against a real PostgreSQL database.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from sqlalchemy import func, select

from perfplat_assets.common.files import FileRefused, read_bounded
from perfplat_assets.common.json_input import nesting
from perfplat_assets.common.metadata import figures_table, markdown_cell
from perfplat_assets.common.months import Month
from perfplat_assets.digital_take_up.calculation import digital_take_up
from perfplat_assets.digital_take_up.queries.figures_file import read_figures_file
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.publication.history.importing import MAX_IMPORT_BYTES
from perfplat_assets.publication.history.reading import (
    MAX_NESTING,
    HistoryRefused,
    PublishedHistory,
    read_published_history,
)
from perfplat_assets.publication.published_format.records import RECORD_FIELDS
from perfplat_assets_tests.support.services import BIN
from perfplat_assets_tests.support.store import imports, published_records

PERFPLAT = str(BIN / "perfplat")
JANUARY = Month.parse("2024-01")
LAST_CLOSED = Month.parse("2026-06")
BOUNDED = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _one_record_series() -> bytes:
    record = {
        "_timestamp": JANUARY.published_timestamp,
        "service": "make-a-lpa",
        "channel": "digital",
        "count": 40.5,
        "dataType": "digital-take-up",
        "period": "month",
    }
    return json.dumps([record]).encode()


# `perfplat import-published` on what is not a published data.json


def _import(path: Path, postgres_url: str, work: Path) -> subprocess.CompletedProcess[str]:
    """The installed command with the store named explicitly; a timeout, so that a hang fails the test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERFPLAT_")}
    env |= {"PERFPLAT_METRICS_DB_URL": postgres_url, "PERFPLAT_DATA_DIR": str(work / "data")}
    return subprocess.run(
        [PERFPLAT, "import-published", str(path)], capture_output=True, text=True, env=env, timeout=120
    )


def _stored(postgres_url: str) -> tuple[int, int]:
    """Published records and imports the store holds."""
    store = MetricsStore(url=postgres_url)
    with store.engine().connect() as connection:
        counts = tuple(
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (published_records, imports)
        )
    store.engine().dispose()
    return counts  # type: ignore[return-value]


def _assert_refused(done: subprocess.CompletedProcess[str], path: Path, *fragments: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    message = done.stderr
    assert "Traceback" not in message and message.endswith("\n") and message.count("\n") == 1, message
    assert message.startswith(f"perfplat import-published: {path} "), message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_a_link_to_dev_zero_is_refused_without_reading(tmp_path, postgres_url):
    link = tmp_path / "data.json"
    link.symlink_to("/dev/zero")
    done = _import(link, postgres_url, tmp_path)
    _assert_refused(done, link, "is a symbolic link, which perfplat does not follow", "50,000,000 bytes")
    assert _stored(postgres_url) == (0, 0)


def test_a_link_to_a_good_file_is_refused_and_the_file_itself_is_imported(tmp_path, postgres_url):
    real = tmp_path / "opg.json"
    real.write_bytes(_one_record_series())
    link = tmp_path / "data.json"
    link.symlink_to(real)
    _assert_refused(_import(link, postgres_url, tmp_path), link, "name the file itself")
    assert _stored(postgres_url) == (0, 0)
    done = _import(real, postgres_url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert _stored(postgres_url) == (1, 1)  # so the store's zeros above are no accident of where it looks


def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path, postgres_url):
    fifo = tmp_path / "data.json"
    os.mkfifo(fifo)
    done = _import(fifo, postgres_url, tmp_path)
    _assert_refused(done, fifo, "is not a regular file (a pipe, socket or device)", "50,000,000 bytes")
    assert _stored(postgres_url) == (0, 0)


def test_a_directory_is_refused(tmp_path, postgres_url):
    folder = tmp_path / "published"
    folder.mkdir()
    done = _import(folder, postgres_url, tmp_path)
    _assert_refused(done, folder, "is a directory, not a file", "the published data.json itself")
    assert _stored(postgres_url) == (0, 0)


def test_a_file_above_the_limit_is_refused_by_its_size(tmp_path, postgres_url):
    large = tmp_path / "data.json"
    large.write_bytes(_one_record_series())
    with large.open("r+b") as file:
        file.truncate(MAX_IMPORT_BYTES + 1)  # sparse: nothing is written, and nothing must be read
    done = _import(large, postgres_url, tmp_path)
    _assert_refused(done, large, "is larger than 50,000,000 bytes, so not a published data.json")
    assert _stored(postgres_url) == (0, 0)


def test_a_file_at_the_limit_is_read(tmp_path):
    at_limit = tmp_path / "data.json"
    at_limit.write_bytes(b"[]")
    with at_limit.open("r+b") as file:
        file.truncate(MAX_IMPORT_BYTES)
    assert len(read_bounded(at_limit, MAX_IMPORT_BYTES, "a published data.json")) == MAX_IMPORT_BYTES


def test_a_file_nested_100000_deep_is_refused_before_parsing(tmp_path, postgres_url):
    deep = tmp_path / "data.json"
    deep.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    done = _import(deep, postgres_url, tmp_path)
    _assert_refused(done, deep, "nests arrays or objects deeper than 2 levels", "flat records")
    assert _stored(postgres_url) == (0, 0)


# The bounded reader, for any bytes and any limit


@BOUNDED
@given(st.binary(max_size=3000), st.integers(min_value=0, max_value=3000))
@example(b"", 0)
@example(b"x", 0)
@example(b"exactly", 7)
def test_any_file_is_read_whole_or_refused_by_its_limit(content, limit):
    with tempfile.TemporaryDirectory() as directory:  # hypothesis reuses a test's tmp_path across examples
        path = Path(directory) / "given"
        path.write_bytes(content)
        if len(content) <= limit:
            assert read_bounded(path, limit, "the test's file") == content
        else:
            with pytest.raises(FileRefused) as refused:
                read_bounded(path, limit, "the test's file")
            assert str(refused.value) == f"is larger than {limit:,} bytes, so not the test's file"


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/null", "."])
def test_a_link_is_refused_whatever_it_points_at(tmp_path, target):
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(FileRefused, match=r"^is a symbolic link, which perfplat does not follow"):
        read_bounded(link, 100, "the test's file")


def test_a_device_is_refused(tmp_path):
    with pytest.raises(FileRefused, match=r"^is not a regular file \(a pipe, socket or device\)$"):
        read_bounded("/dev/zero", 100, "the test's file")


def test_a_missing_file_is_the_operating_systems_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_bounded(tmp_path / "missing", 100, "the test's file")


def test_the_figures_file_refuses_a_link(tmp_path):
    real = tmp_path / "take-up.csv"
    real.write_text("month,digital_applications,total_applications,note\n", encoding="utf-8")
    link = tmp_path / "figures.csv"
    link.symlink_to(real)
    with pytest.raises(ValueError) as refused:
        read_figures_file(link)
    assert str(refused.value).startswith(
        f"{link}: is a symbolic link, which perfplat does not follow: name the file itself. "
        "PERFPLAT_TAKEUP_FIGURES_FILE must name"
    )
    assert read_figures_file(real) == {}


# A published data.json, for any bytes


def _history(content: bytes) -> PublishedHistory | HistoryRefused:
    """The history, or the reader's own refusal; any other exception fails the test by propagating."""
    try:
        history = read_published_history(content, "data.json", LAST_CLOSED)
    except HistoryRefused as refused:
        message = str(refused)
        assert message.startswith("data.json "), message
        assert "\n" not in message and "\r" not in message, message
        return refused
    assert isinstance(history, PublishedHistory)
    return history


JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
RECORD = st.fixed_dictionaries(
    {
        "_timestamp": st.sampled_from(
            [JANUARY.published_timestamp, "2019-01-01T00:00:00+00:00", "2099-01-01T00:00:00+00:00", ""]
        )
        | st.text(alphabet="0123456789-T:+", max_size=25),
        "service": st.sampled_from(["make-a-lpa", "other"]),
        "channel": st.just("digital"),
        "count": st.floats() | st.integers(-(10**30), 10**30) | st.text(alphabet="0123456789.e-", max_size=8),
        "dataType": st.sampled_from(
            ["digital-take-up", "uptime-percent", "user-satisfaction-percent", "satisfied", "Take Up"]
        ),
        "period": st.sampled_from(["month", "week"]),
    },
    optional={"extra": JSON},
)


@BOUNDED
@given(st.binary(max_size=2000))
@example(b"[" * 100_000)
@example(b"[[" + b"]" * 2)
@example(b'[{"a": [1]}]')
@example(b"\xef\xbb\xbf[]")
@example(b'["\\"[[[[["]')
def test_any_bytes_give_history_or_a_refusal(content):
    _history(content)


@BOUNDED
@given(JSON)
def test_any_json_gives_history_or_a_refusal(value):
    _history(json.dumps(value).encode())


@BOUNDED
@given(st.lists(RECORD | JSON, max_size=6))
def test_any_list_of_near_records_gives_history_or_a_refusal(records):
    _history(json.dumps(records).encode())


def test_nesting_deeper_than_records_is_refused_naming_the_limit():
    assert MAX_NESTING == 2
    record = dict.fromkeys(RECORD_FIELDS, 1) | {"count": [1]}
    with pytest.raises(HistoryRefused) as refused:
        read_published_history(json.dumps([record]).encode(), "data.json", LAST_CLOSED)
    assert str(refused.value) == (
        "data.json nests arrays or objects deeper than 2 levels, so it is not the published array of flat "
        "records"
    )


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("", 0),
        ("[]", 1),
        ('[{"a": 1}, {"b": 2}]', 2),
        ('["[[[[", "{{{{"]', 1),  # brackets in strings do not count
        ('["\\"[[["]', 1),  # nor after an escaped quote
        ('["\\\\", [[1]]]', 3),  # an escaped backslash ends before the closing quote
        ('"[[[', 0),  # an unclosed string runs to the end
        ("]]][[", 0),  # depth below zero: the parser stops at the first "]", before any "["
    ],
)
def test_nesting_skips_strings(text, depth):
    assert nesting(text) == depth


# Metadata tables


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("plain note", "plain note"),
        ("a | b", "a \\| b"),
        ("first line\nsecond\r\nthird\rfourth", "first line second third fourth"),
        ("paragraph\n\n\nnext", "paragraph next"),
        ("a\u2028b\x85c", "a b c"),
        ("already \\| escaped", "already \\\\\\| escaped"),
        ("C:\\figures", "C:\\\\figures"),
        ("`code`", "`code`"),
    ],
)
def test_a_markdown_cell_cannot_split(text, cell):
    assert markdown_cell(text) == cell


def _table_cells(markdown: str) -> list[list[str]]:
    """The rows of the one table in the markdown, as a GFM renderer reads them."""
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    assert [t.type for t in tokens].count("table_open") == 1, markdown
    rows, row = [], []
    for token in tokens:
        if token.type == "tr_open":
            row = []
        elif token.type == "inline":
            row.append(token.content)
        elif token.type == "tr_close":
            rows.append(row)
    return rows


def test_a_note_holding_a_pipe_and_a_line_break_stays_in_its_cell(tmp_path):
    path = tmp_path / "take-up.csv"
    path.write_text(
        "month,digital_applications,total_applications,note\n"
        '2025-05,30,40,"provisional | revised\nin June"\n'
        "2025-06,5,0,a \\| b\n",
        encoding="utf-8",
    )
    figures = read_figures_file(path)
    months = [digital_take_up(month, figures[month], "the figures file") for month in sorted(figures)]
    table = figures_table(months).md_str
    assert len(table.splitlines()) == 4, table  # the header, the rule, a line a month
    columns = [
        "month",
        "digital_applications",
        "total_applications",
        "take_up_percent",
        "source",
        "note",
        "not_available_reason",
        "blocked_by",
    ]
    assert _table_cells(table) == [
        columns,
        # The table's own parser has already read `\|` as a `|` within the cell.
        ["2025-05-01", "30", "40", "75", "the figures file", "provisional | revised in June", "", ""],
        [
            "2025-06-01",
            "5",
            "0",
            "",
            "the figures file",
            "a \\\\| b",
            "the figures file recorded no LPA applications in 2025-06",
            "",
        ],
    ]
    # As people see them: the note's own text, its line break a space.
    rendered = MarkdownIt("commonmark").enable("table").render(table)
    assert '<td style="text-align:left">provisional | revised in June</td>' in rendered
    assert '<td style="text-align:left">a \\| b</td>' in rendered
