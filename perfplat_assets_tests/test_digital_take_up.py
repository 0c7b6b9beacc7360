"""Take-up from a Sirius table on real Postgres, and from the product team's figures file."""

import os
import re
import socket
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from perfplat_assets.common.months import Month, months_between
from perfplat_assets.digital_take_up.calculation import TakeUpFigures, digital_take_up
from perfplat_assets.digital_take_up.queries.figures_file import (
    MAX_FILE_BYTES,
    FiguresFileError,
    read_figures_file,
)
from perfplat_assets.digital_take_up.resources import SiriusDatabase, TakeUpFiguresFile

CASES = [
    # (kind, received, Make an LPA reference)
    ("LPA", date(2025, 6, 1), "A0000000001"),
    ("LPA", date(2025, 6, 30), "A0000000002"),
    ("LPA", date(2025, 6, 30), None),
    ("LPA", date(2025, 6, 15), ""),  # an empty reference is no reference
    ("EPA", date(2025, 6, 10), "A0000000003"),  # not an LPA
    ("LPA", date(2025, 7, 1), "A0000000004"),
    ("LPA", date(2025, 7, 2), None),
    ("LPA", date(2025, 7, 3), None),
    ("LPA", date(2025, 5, 31), "A0000000005"),  # before the window
]


def _sirius_on_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        # Private schema: names differ from the default contract, as they may in production.
        connection.execute(
            text("CREATE TABLE lpa_cases (id serial PRIMARY KEY, kind text, received_on date, moj_ref text)")
        )
        connection.execute(
            text("INSERT INTO lpa_cases (kind, received_on, moj_ref) VALUES (:kind, :received, :ref)"),
            [{"kind": k, "received": d, "ref": r} for k, d, r in CASES],
        )
    engine.dispose()


def test_sirius_on_postgres_with_configured_names(postgres_url):
    _sirius_on_postgres(postgres_url)
    sirius = SiriusDatabase(
        url=postgres_url,
        cases_table="lpa_cases",
        case_type_column="kind",
        receipt_date_column="received_on",
        online_id_column="moj_ref",
    )
    months = months_between(Month.parse("2025-06"), Month.parse("2025-08"))
    figures = sirius.applications(months)
    assert figures == {
        Month.parse("2025-06"): TakeUpFigures(digital_applications=2, total_applications=4),
        Month.parse("2025-07"): TakeUpFigures(digital_applications=1, total_applications=3),
    }
    assert (
        digital_take_up(Month.parse("2025-06"), figures[Month.parse("2025-06")], "sirius").take_up_percent
        == 50.0
    )
    # 1 in 3 is 33.33...: one decimal place.
    assert (
        digital_take_up(Month.parse("2025-07"), figures[Month.parse("2025-07")], "sirius").take_up_percent
        == 33.3
    )
    august = digital_take_up(Month.parse("2025-08"), figures.get(Month.parse("2025-08")), "sirius")
    assert august.take_up_percent is None and "no figures for 2025-08" in (august.not_available_reason or "")


def test_an_unreachable_sirius_names_the_setting_not_the_password():
    sirius = SiriusDatabase(url="postgresql://perfplat:s3cret-pw@127.0.0.1:1/sirius")
    with pytest.raises(Exception, match="PERFPLAT_SIRIUS_DB_URL") as caught:
        sirius.applications([Month.parse("2025-06")])
    assert "s3cret-pw" not in str(caught.value)


def test_figures_file(tmp_path):
    path = tmp_path / "take-up.csv"
    path.write_text(
        "month,digital_applications,total_applications,note\n"
        "2025-05,20616,49812,\n"
        '2025-06,21000,50000,"revised 2025-08, after late paper receipts"\n',
        encoding="utf-8",
    )
    figures = TakeUpFiguresFile(path=str(path)).figures()
    may = digital_take_up(Month.parse("2025-05"), figures[Month.parse("2025-05")], "figures-file")
    assert (may.digital_applications, may.total_applications, may.take_up_percent) == (20616, 49812, 41.4)
    assert figures[Month.parse("2025-06")].note == "revised 2025-08, after late paper receipts"


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("month,digital_applications\n2025-05,1\n", "missing total_applications"),
        (
            "month,digital_applications,total_applications,note\nMay 2025,1,2,\n",
            "line 2: month must be YYYY-MM",
        ),
        ("month,digital_applications,total_applications,note\n2025-05,1,lots,\n", "must be a whole number"),
        ("month,digital_applications,total_applications,note\n2025-05,-1,2,\n", "must not be negative"),
        (
            "month,digital_applications,total_applications,note\n2025-05,1,2,\n2025-05,1,3,\n",
            "line 3: 2025-05 appears twice",
        ),
    ],
)
def test_a_bad_figures_file_says_where_and_what(tmp_path, content, complaint):
    path = tmp_path / "take-up.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FiguresFileError, match=complaint):
        TakeUpFiguresFile(path=str(path)).figures()


def test_a_missing_figures_file_says_what_to_do(tmp_path):
    with pytest.raises(FiguresFileError, match="PERFPLAT_TAKEUP_FIGURES_FILE must name"):
        TakeUpFiguresFile(path=str(tmp_path / "absent.csv")).figures()


def test_no_applications_is_not_available_rather_than_zero():
    result = digital_take_up(Month.parse("2025-05"), TakeUpFigures(0, 0), "figures-file")
    assert result.take_up_percent is None
    assert "no LPA applications" in (result.not_available_reason or "")


HEADER = "month,digital_applications,total_applications,note\n"


def _raises(path: Path, *fragments: str) -> str:
    """Read the file; it must fail with the reader's own error, naming the file and each fragment."""
    with pytest.raises(FiguresFileError) as caught:
        read_figures_file(path)
    message = str(caught.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


def _file(tmp_path: Path, content: bytes | str) -> Path:
    path = tmp_path / "take-up.csv"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


# Encodings: UTF-8 with or without a byte order mark, nothing else.

UTF8_FIGURES = HEADER + "2025-05,20616,49812,réviséd £\n"


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["utf-8", "utf-8 with BOM"])
def test_utf8_with_or_without_a_byte_order_mark_is_read(tmp_path, bom):
    figures = read_figures_file(_file(tmp_path, bom + UTF8_FIGURES.encode("utf-8")))
    assert figures == {Month.parse("2025-05"): TakeUpFigures(20616, 49812, "réviséd £")}


@pytest.mark.parametrize(
    ("encoding", "fragments"),
    [
        ("utf-16", ["is UTF-16 (little-endian)", "UTF-16 byte order mark", "not UTF-8", "CSV UTF-8"]),
        ("utf-16-be", ["NUL byte at byte offset 0", "looks like UTF-16 without a byte order mark"]),
        ("utf-16-le", ["line 1", "NUL byte at byte offset 1", "looks like UTF-16 without a byte order mark"]),
        ("utf-32", ["is UTF-32 (little-endian)", "UTF-32 byte order mark"]),
        # "é" is byte 0xE9 in Latin-1: the first one is on line 2, byte 72 of the file (from 0).
        ("latin-1", ["line 2", "not UTF-8", "byte 0xE9 at byte offset 72", "Windows-1252 or Latin-1"]),
        ("cp1252", ["line 2", "byte 0xE9 at byte offset 72", "save it as UTF-8"]),
    ],
)
def test_a_file_not_in_utf8_names_the_file_utf8_and_what_it_looks_like(tmp_path, encoding, fragments):
    _raises(_file(tmp_path, UTF8_FIGURES.encode(encoding)), "UTF-8", *fragments)


def test_a_byte_order_mark_does_not_shift_the_offset_of_a_bad_byte(tmp_path):
    path = _file(tmp_path, b"\xef\xbb\xbf" + UTF8_FIGURES.encode("latin-1"))
    _raises(path, "line 2", "byte 0xE9 at byte offset 75")


# The path: a file that can be read.


def test_a_directory_names_the_setting(tmp_path):
    _raises(tmp_path, "is a directory, not a file", "PERFPLAT_TAKEUP_FIGURES_FILE must name")


def test_a_path_through_a_file_is_missing(tmp_path):
    _raises(_file(tmp_path, HEADER) / "more.csv", "no such file", "PERFPLAT_TAKEUP_FIGURES_FILE")


def test_a_socket_is_not_a_regular_file(tmp_path):
    path = tmp_path / "take-up.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        _raises(path, "is not a regular file", "PERFPLAT_TAKEUP_FIGURES_FILE")


def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    path = tmp_path / "take-up.fifo"
    os.mkfifo(path)
    _raises(path, "is not a regular file", "PERFPLAT_TAKEUP_FIGURES_FILE")


def test_an_unreadable_file_says_permission_denied(tmp_path):
    path = _file(tmp_path, HEADER)
    path.chmod(0)
    if os.geteuid() != 0:
        _raises(path, "permission denied", "PERFPLAT_TAKEUP_FIGURES_FILE")
        return
    # root reads any file: read it from a child process that has given root up.
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        try:
            os.setgid(65534)
            os.setuid(65534)
            read_figures_file(path)
            outcome = "read without error"
        except FiguresFileError as error:
            outcome = str(error)
        except BaseException as error:
            outcome = f"{type(error).__name__}: {error}"
        os.write(write_end, outcome.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        message = pipe.read().decode()
    os.waitpid(child, 0)
    assert str(path) in message and "permission denied" in message, message
    assert "PERFPLAT_TAKEUP_FIGURES_FILE" in message


def test_a_file_too_large_to_be_the_figures_file(tmp_path):
    path = _file(tmp_path, HEADER)
    with path.open("r+b") as file:
        file.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing is written
    _raises(path, "larger than 10,000,000 bytes", "PERFPLAT_TAKEUP_FIGURES_FILE")


@pytest.mark.parametrize("path", [None, "", "  "])
def test_no_path_at_all_names_the_setting(path):
    with pytest.raises(FiguresFileError, match=r"PERFPLAT_TAKEUP_FIGURES_FILE is (not set|empty)"):
        TakeUpFiguresFile(path=path).figures()


# The figures: whole numbers in range, on the line they are on.


@pytest.mark.parametrize(
    ("row", "fragments"),
    [
        ("2025-05,1,12345678901234567890123,", ["line 3", "total_applications is '12345678901234567890123'"]),
        ("2025-05,10000001,20000000,", ["line 3", "digital_applications is '10000001'", "10,000,000"]),
        ("2025-05,-5,20,", ["line 3", "digital_applications must not be negative ('-5')"]),
        ("2025-05,1.5,20,", ["line 3", "digital_applications must be a whole number, not '1.5'"]),
        ("2025-05,1e3,2000,", ["must be a whole number, not '1e3'"]),
        ("2025-05,1_000,2000,", ["must be a whole number, not '1_000'"]),
        ("2025-05,+5,20,", ["must be a whole number, not '+5'"]),
        ("2025-05,\u0665,20,", ["must be a whole number, not '\u0665'"]),  # an Arabic-Indic 5
        ("2025-05,,20,", ["digital_applications must be a whole number, not ''"]),
        ("2025-05," + "9" * 5000 + ",20,", ["line 3", "digital_applications is '9999", "(5000 characters)"]),
        ("2025-05,1,2,3,4", ["line 3", "5 values, but the header has 4 columns", "double quotes"]),
        ("2025-05,1,2", ["line 3", "3 values, but the header has 4 columns"]),
        ("2025-13,1,2,", ["line 3", "month must be YYYY-MM, not '2025-13'"]),
    ],
)
def test_a_bad_value_names_the_file_the_line_and_the_value(tmp_path, row, fragments):
    # Line 2 is a good row, so the error is on line 3, the bad one.
    _raises(_file(tmp_path, HEADER + "2025-04,1,2,\n" + row + "\n"), *fragments)


def test_the_cap_itself_is_allowed(tmp_path):
    figures = read_figures_file(_file(tmp_path, HEADER + "2025-05,10000000,10000000,\n"))
    assert figures[Month.parse("2025-05")] == TakeUpFigures(10_000_000, 10_000_000)


def test_more_digital_than_in_all_is_read_as_it_is_for_the_blocking_check(tmp_path):
    # Not the reader's to refuse: the check digital_within_total withholds that month alone and names it.
    figures = read_figures_file(_file(tmp_path, HEADER + "2025-05,120,100,typo\n"))
    assert figures[Month.parse("2025-05")] == TakeUpFigures(120, 100, "typo")


def test_a_month_given_twice_names_both_lines(tmp_path):
    path = _file(tmp_path, HEADER + "2025-05,1,2,\n2025-06,1,2,\n2025-05-01,1,3,\n")
    _raises(path, "line 4: 2025-05 appears twice (first on line 2)")


def test_a_quoted_note_across_lines_keeps_the_line_numbers_right(tmp_path):
    path = _file(tmp_path, HEADER + '2025-05,1,2,"two\nlines"\r\n\n2025-06,x,2,\n')
    _raises(path, "line 5: digital_applications must be a whole number, not 'x'")


def test_a_field_too_large_for_csv_is_the_readers_error(tmp_path):
    path = _file(tmp_path, HEADER + '2025-05,1,2,"' + "x" * 200_000 + '"\n')
    _raises(path, "line 2: not readable as CSV", "field larger than field limit")


def test_columns_may_come_in_any_order_and_the_note_may_be_left_out(tmp_path):
    path = _file(tmp_path, "\ntotal_applications , month,digital_applications\n50,2025-05,20\n")
    assert read_figures_file(path) == {Month.parse("2025-05"): TakeUpFigures(20, 50)}


# The header: the expected columns, each once, on the first line that is not blank.


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ("", ["is empty", "month,digital_applications,total_applications,note"]),
        ("\n \n", ["is empty"]),
        (
            "month,digital_applications,total_applications,note,month\n2025-05,1,2,,2025-05\n",
            ["line 1: column 'month' appears twice in the header"],
        ),
        (
            "month,digital_applications,digital_applications,total_applications\n",
            ["line 1: column 'digital_applications' appears twice"],
        ),
        ("month,digital,total,note\n2025-05,1,2,\n", ["line 1: unexpected column 'digital'"]),
        ("Month,digital_applications,total_applications,note\n", ["unexpected column 'Month'"]),
        ("month,digital_applications,total_applications,note,\n", ["line 1: column 5 has no name"]),
        ("month,total_applications\n2025-05,2\n", ["line 1", "missing digital_applications"]),
        ("2025-05,1,2,\n", ["line 1 is a row of figures, not the header", "must start with month,"]),
        ("\n\nmonth;digital_applications;total_applications;note\n", ["line 3: unexpected column 'month;"]),
    ],
)
def test_a_bad_header_names_the_file_and_the_line(tmp_path, content, fragments):
    _raises(_file(tmp_path, content), *fragments)


def test_every_message_names_the_file_first(tmp_path):
    message = _raises(_file(tmp_path, HEADER + "2025-05,1,lots,\n"), "must be a whole number")
    assert re.match(re.escape(str(tmp_path / "take-up.csv")) + r" line 2: ", message)
