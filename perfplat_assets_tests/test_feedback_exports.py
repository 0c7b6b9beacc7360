"""Use an LPA's ratings from GOV.UK Feedback Explorer exports: hand-written exports, counted by hand.

GOV.UK's days are UTC days (support-api sets no time zone): an export's range, its creation dates and its
aggregated days all are, so a month here is the UTC month. Every expected figure below is a literal worked
out from the rows written out beside it.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from pydantic import ValidationError

from perfplat_assets.common.errors import SourceUnavailable
from perfplat_assets.common.months import Month
from perfplat_assets.user_satisfaction.calculation import RatingCounts
from perfplat_assets.user_satisfaction.queries.feedback_exports import (
    Export,
    FeedbackExportError,
    choose_exports,
    read_exports,
)
from perfplat_assets.user_satisfaction.resources.feedback_exports import FeedbackExports
from perfplat_assets_tests.support.aws import REGION
from perfplat_sample.feedback_exports import EmbeddedFeedbackExports, sample_export

SETTING = "PERFPLAT_USE_AN_LPA_FEEDBACK_EXPORTS"
CANARY = "CANARY-7f3e-jane.example@example.invalid"
JULY, AUGUST = Month.of(2026, 7), Month.of(2026, 8)
NAME = "feedex_{}_{}_done_use-lasting-power-of-attorney.csv"
JULY_NAME = NAME.format("2026-07-01", "2026-07-31")
AFTER_JULY = datetime(2026, 8, 1, 6, tzinfo=UTC)

HEADER = (
    "creation date,path or service name,feedback,service satisfaction rating,browser name,browser version,"
    "browser platform,user agent,referrer,type,primary organisation,all organisations"
)
PAGE, SLUG = "/done/use-lasting-power-of-attorney", "use-lasting-power-of-attorney"
SUMS = "Other,,Other ,,,aggregated-service-feedback,,"  # an aggregated row: no agent, no organisation
FIREFOX = "Firefox,128.0,Linux ,Mozilla/5.0 Firefox/128.0,https://example.invalid/logout"
OPG = "Office of the Public Guardian,Office of the Public Guardian"
SPY = f'Firefox,128.0,Linux ,"{CANARY} agent","https://example.invalid/?q={CANARY}"'

JULY_LINES = [
    HEADER,
    # 1 July, aggregated: 10 very satisfied, 3 satisfied, 2 very dissatisfied
    f"2026-07-01 00:00:00,{PAGE},Rating of 5: 10,5,{SUMS}",
    f"2026-07-01 00:00:00,{PAGE},Rating of 4: 3,4,{SUMS}",
    f"2026-07-01 00:00:00,{PAGE},Rating of 1: 2,1,{SUMS}",
    # another done page's totals: 7 responses not counted
    f"2026-07-01 00:00:00,/done/register-to-vote,Rating of 3: 7,3,{SUMS}",
    # a comment the aggregation kept: already one of the 10 above, not counted again
    f'2026-07-01 14:02:11,{SLUG},"{CANARY}, with a comma",5,{SPY},service-feedback,{OPG}',
    # 2 July, aggregated: 4 neither, 1 dissatisfied
    f"2026-07-02 00:00:00,{PAGE},Rating of 3: 4,3,{SUMS}",
    f"2026-07-02 00:00:00,{PAGE},Rating of 2: 1,2,{SUMS}",
    # 15 July, not aggregated: one of each rating, a second 5, two unknown, one of another service
    f"2026-07-15 08:00:00,{SLUG},,5,{FIREFOX},service-feedback,{OPG}",
    f'2026-07-15 09:00:00,{SLUG},"{CANARY}\nover two lines",5,{SPY},service-feedback,{OPG}',
    f"2026-07-15 10:00:00,{SLUG},,4,{FIREFOX},service-feedback,{OPG}",
    f"2026-07-15 11:00:00,{SLUG},,3,{FIREFOX},service-feedback,{OPG}",
    f"2026-07-15 12:00:00,{SLUG},,2,{FIREFOX},service-feedback,{OPG}",
    f"2026-07-15 13:00:00,{SLUG},,1,{FIREFOX},service-feedback,{OPG}",
    f"2026-07-15 14:00:00,{SLUG},,,{FIREFOX},service-feedback,{OPG}",
    f"2026-07-15 15:00:00,{SLUG},,7,{FIREFOX},service-feedback,{OPG}",
    f"2026-07-15 16:00:00,register-to-vote,,5,{FIREFOX},service-feedback,{OPG}",
    # contacts that are not ratings
    f'2026-07-16 09:30:00,{PAGE},"{CANARY} doing\n{CANARY} wrong",,{SPY},problem-report,{OPG}',
    f"2026-07-20 10:00:00,/contact/govuk,{CANARY},,{SPY},long-form-contact,,",
    # 23:30 UTC on 31 July is 00:30 on 1 August in London (BST); GOV.UK's day, so the month, is 31 July
    f"2026-07-31 23:30:00,{SLUG},,4,{FIREFOX},service-feedback,{OPG}",
]
JULY_EXPORT = ("\n".join(JULY_LINES) + "\n").encode()
JULY_COUNTS = RatingCounts(
    very_satisfied=12,  # 10 + 2
    satisfied=5,  # 3 + 1 + the 23:30 one
    neither=5,  # 4 + 1
    dissatisfied=2,  # 1 + 1
    very_dissatisfied=3,  # 2 + 1
    unknown=2,
    rated_responses=27,
)
JULY_NOT_COUNTED = {
    "a problem report or a long-form contact, not a rating": 2,
    "a rating of another page or service": 8,  # 7 aggregated + 1 individual
    "a rating with a comment on a day GOV.UK has aggregated: already in that day's totals": 1,
}


def _write(folder: Path, name: str, data: bytes, written: datetime) -> Path:
    path = folder / name
    path.write_bytes(data)
    os.utime(path, (written.timestamp(), written.timestamp()))
    return path


def _export(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _assert_no_free_text(*texts: object) -> None:
    for text in texts:
        assert CANARY not in str(text) and "CANARY" not in repr(text)


def test_an_export_is_counted_as_worked_out_by_hand(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    _write(tmp_path, JULY_NAME, JULY_EXPORT, AFTER_JULY)
    reading = FeedbackExports(location=str(tmp_path)).read([JULY, AUGUST])
    assert reading.counts[JULY] == JULY_COUNTS
    assert reading.not_counted[JULY] == JULY_NOT_COUNTED
    assert reading.counts[AUGUST] == (
        f"not available yet: no export in {SETTING} covers 2026-08 (2026-08-01 to 2026-08-31); add GOV.UK's "
        "Feedback Explorer export of /done/use-lasting-power-of-attorney for those days"
    )
    assert reading.warnings == ()
    _assert_no_free_text(reading, reading.counts, caplog.text)


def test_the_pure_functions_count_the_same_bytes():
    counts = read_exports([Export(f"exports/{JULY_NAME}", AFTER_JULY, JULY_EXPORT)], [JULY]).counts
    assert counts == {JULY: JULY_COUNTS}


def test_missing_days_are_named_compactly(tmp_path: Path):
    lines = [HEADER, f"2026-07-02 10:00:00,{SLUG},,5,{FIREFOX},service-feedback,{OPG}"]
    _write(tmp_path, NAME.format("2026-07-01", "2026-07-14"), _export(lines), AFTER_JULY)
    _write(tmp_path, NAME.format("2026-07-16", "2026-07-29"), _export([HEADER]), AFTER_JULY)
    reason = FeedbackExports(location=str(tmp_path)).rating_counts([JULY])[JULY]
    assert reason == (
        f"not available yet: no export in {SETTING} covers 2026-07-15, 2026-07-30 to 2026-07-31; add "
        "GOV.UK's Feedback Explorer export of /done/use-lasting-power-of-attorney for those days"
    )
    assert not reason.endswith(".")


@pytest.mark.parametrize(
    ("written", "covered"),
    [
        (datetime(2026, 7, 31, 22, 59, tzinfo=UTC), False),  # before the day ended anywhere
        (datetime(2026, 7, 31, 23, 45, tzinfo=UTC), False),  # over in London (BST), not yet in UTC
        (datetime(2026, 8, 1, 0, 0, tzinfo=UTC), True),  # GOV.UK's day over
    ],
)
def test_the_last_day_counts_only_once_it_had_ended_when_the_file_was_written(
    tmp_path: Path, written: datetime, covered: bool
):
    lines = [
        HEADER,
        f"2026-07-30 12:00:00,{SLUG},,5,{FIREFOX},service-feedback,{OPG}",
        f"2026-07-31 22:10:00,{SLUG},,4,{FIREFOX},service-feedback,{OPG}",
    ]
    path = _write(tmp_path, JULY_NAME, _export(lines), written)
    reading = FeedbackExports(location=str(tmp_path)).read([JULY])
    if covered:
        assert reading.counts[JULY] == RatingCounts(very_satisfied=1, satisfied=1, rated_responses=2)
        assert reading.not_counted[JULY] == {}
    else:
        assert reading.counts[JULY] == (
            f"not available yet: no export in {SETTING} covers 2026-07-31 ({path} was written at "
            f"{written:%Y-%m-%d %H:%M:%S} UTC, before 2026-07-31 ended); add GOV.UK's Feedback Explorer "
            "export of /done/use-lasting-power-of-attorney for those days"
        )
        assert reading.not_counted[JULY] == {
            "on a day that had not ended (UTC) when the export was written": 1
        }


def test_two_differing_exports_of_a_day_withhold_the_month_naming_both(tmp_path: Path):
    first = _write(tmp_path, JULY_NAME, JULY_EXPORT, AFTER_JULY)
    overlapping = NAME.format("2026-07-30", "2026-08-31")
    lines = [HEADER, f"2026-08-03 10:00:00,{SLUG},,5,{FIREFOX},service-feedback,{OPG}"]
    second = _write(tmp_path, overlapping, _export(lines), datetime(2026, 9, 1, tzinfo=UTC))
    counts = FeedbackExports(location=str(tmp_path)).rating_counts([JULY, AUGUST])
    assert counts[JULY] == (
        f"not available: {first} and {second} both cover 2026-07-30 to 2026-07-31, and they differ; the "
        "exports have no row id, so a response in both could not be counted once: keep one export a day in "
        f"{SETTING}"
    )
    assert counts[AUGUST] == RatingCounts(very_satisfied=1, rated_responses=1)


def test_byte_identical_exports_are_counted_once(tmp_path: Path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    exports = [
        Export(str(_write(folder, JULY_NAME, JULY_EXPORT, AFTER_JULY)), AFTER_JULY, JULY_EXPORT)
        for folder in (one, two)
    ]
    assert read_exports(exports, [JULY]).counts == {JULY: JULY_COUNTS}
    # a longer range with the same bytes: July once from either, August (no rows) counted as none
    _write(one, NAME.format("2026-07-01", "2026-08-31"), JULY_EXPORT, datetime(2026, 9, 1, tzinfo=UTC))
    counts = FeedbackExports(location=str(one)).rating_counts([JULY, AUGUST])
    assert counts == {JULY: JULY_COUNTS, AUGUST: RatingCounts(rated_responses=0)}


@pytest.mark.parametrize(
    "feedback",
    [
        f"Rating of 5: 3 {CANARY}",
        f"{CANARY}",
        "Rating of 6: 3",
        "Rating of 5: -1",
        "Rating of 5:3",
        "Rating of 5: 12345678",
        "rating of 5: 3",
        "Rating of 5: \uff13",  # a full-width digit: not ASCII
    ],
    ids=[
        "trailing-text",
        "free-text",
        "rating-6",
        "negative",
        "no-space",
        "eight-digits",
        "lower-case",
        "wide",
    ],
)
def test_an_aggregated_count_in_any_other_form_is_refused_without_echoing_it(tmp_path: Path, feedback: str):
    lines = [
        HEADER,
        f"2026-07-01 00:00:00,{PAGE},Rating of 4: 3,4,{SUMS}",
        f'2026-07-01 00:00:00,{PAGE},"{feedback}",5,{SUMS}',
    ]
    path = _write(tmp_path, JULY_NAME, _export(lines), AFTER_JULY)
    with pytest.raises(FeedbackExportError) as refused:
        FeedbackExports(location=str(tmp_path)).read([JULY])
    assert str(refused.value).startswith(f"{path} line 3: an aggregated row's feedback is not 'Rating of ")
    assert feedback not in str(refused.value)
    _assert_no_free_text(refused.value)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (f"2026-07-01 00:00:00,{PAGE},Rating of 4: 3,5,{SUMS}", "feedback and service satisfaction rating"),
        (f"2026-07-01 00:00:01,{PAGE},Rating of 4: 3,4,{SUMS}", "creation date is not midnight"),
        (f"2026-07-01 00:00:00,{PAGE},Rating of 5: 1,5,{SUMS}", "a second aggregated row for 2026-07-01"),
        (f"01/07/2026 10:00,{SLUG},{CANARY},5,{SPY},service-feedback,{OPG}", "creation date is not a moment"),
        (f"2026-06-30 10:00:00,{SLUG},{CANARY},5,{SPY},service-feedback,{OPG}", "outside the days"),
        (f"2026-07-15 10:00:00,{SLUG},{CANARY},5,{SPY},{CANARY},{OPG}", "type is none of GOV.UK's four"),
        (f"2026-07-15 10:00:00,{SLUG},{CANARY},5,{SPY},service-feedback", "10 values, but the header has 12"),
        (f"2026-08-02 10:00:00,{SLUG},{CANARY},5,{SPY},service-feedback,{OPG}", "created after the file"),
    ],
    ids=["ratings-differ", "not-midnight", "second-total", "date-form", "outside", "type", "values", "mtime"],
)
def test_a_row_gov_uk_would_not_write_is_refused_naming_file_and_line(
    tmp_path: Path, line: str, problem: str
):
    lines = [HEADER, f"2026-07-01 00:00:00,{PAGE},Rating of 5: 3,5,{SUMS}", line]
    name = JULY_NAME if "08-02" not in line else NAME.format("2026-07-01", "2026-08-31")
    path = _write(tmp_path, name, _export(lines), datetime(2026, 8, 2, tzinfo=UTC))
    with pytest.raises(FeedbackExportError, match=problem) as refused:
        FeedbackExports(location=str(tmp_path)).read([JULY])
    assert str(refused.value).startswith(f"{path} line 3: ")
    _assert_no_free_text(refused.value)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "is empty"),
        (f"{CANARY}\n".encode(), "line 1: the header has 1 columns, not 12"),
        (HEADER.replace("referrer", CANARY).encode(), "line 1: column 9 of the header is not 'referrer'"),
        (HEADER.rsplit(",", 2)[0].encode() + b"\n", "line 1: the header has 10 columns, not 12"),
        (b"\xef\xbb\xbf" + JULY_EXPORT, "line 1: starts with a UTF-8 byte order mark"),
        (JULY_EXPORT.replace(b"over two", b"over \xff two"), "line 11: not UTF-8 at byte offset"),
        (JULY_EXPORT + b'2026-07-03 00:00:00,"x"y', "line 23: not readable as CSV"),
    ],
    ids=["empty", "no-header", "header-name", "ten-columns", "bom", "not-utf8", "quoting"],
)
def test_a_file_that_is_not_as_gov_uk_wrote_it_is_refused(tmp_path: Path, data: bytes, problem: str):
    path = _write(tmp_path, JULY_NAME, data, AFTER_JULY)
    with pytest.raises(FeedbackExportError, match=problem) as refused:
        FeedbackExports(location=str(tmp_path)).read([JULY])
    assert str(refused.value).startswith(str(path))
    _assert_no_free_text(refused.value)


def test_only_exports_touching_the_months_are_read_and_other_names_are_warned_of(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    _write(tmp_path, JULY_NAME, JULY_EXPORT, AFTER_JULY)
    _write(tmp_path, NAME.format("2026-01-01", "2026-01-31"), b"not an export", AFTER_JULY)
    for name in (
        "notes.txt",
        f"{JULY_NAME[:-4]} (1).csv",
        "feedex_2026-07-01_2026-07-31_done_register-to-vote.csv",
    ):
        _write(tmp_path, name, JULY_EXPORT, AFTER_JULY)
    (tmp_path / "older").mkdir()
    with caplog.at_level(logging.WARNING):
        reading = FeedbackExports(location=str(tmp_path)).read([JULY])
    assert reading.counts == {JULY: JULY_COUNTS}
    assert reading.warnings == (
        "feedex_2026-07-01_2026-07-31_done_register-to-vote.csv is a Feedback Explorer export of other pages "
        "(or filtered by organisation or document type, which leaves out the aggregated days), not of "
        "/done/use-lasting-power-of-attorney alone: not read",
        "feedex_2026-07-01_2026-07-31_done_use-lasting-power-of-attorney (1).csv is not a Feedback Explorer "
        "export of /done/use-lasting-power-of-attorney (feedex_<from>_<to>_done_use-lasting-power-of-attorney"
        ".csv): not read",
        "notes.txt is not a Feedback Explorer export of /done/use-lasting-power-of-attorney "
        "(feedex_<from>_<to>_done_use-lasting-power-of-attorney.csv): not read",
        "older is not a Feedback Explorer export of /done/use-lasting-power-of-attorney "
        "(feedex_<from>_<to>_done_use-lasting-power-of-attorney.csv): not read",
    )
    assert "notes.txt is not a Feedback Explorer export" in caplog.text
    with pytest.raises(FeedbackExportError, match="line 1: the header has 1 columns"):
        FeedbackExports(location=str(tmp_path)).read([Month.of(2026, 1)])


def test_an_export_with_no_start_runs_from_1970():
    assert choose_exports([NAME.format("0000-00-00", "2021-03-31")], [Month.of(2021, 3)])[0] == [
        NAME.format("0000-00-00", "2021-03-31")
    ]


def test_hostile_files_are_refused_naming_themselves(tmp_path: Path):
    real = _write(tmp_path, "real.csv", JULY_EXPORT, AFTER_JULY)
    (tmp_path / JULY_NAME).symlink_to(real)
    resource = FeedbackExports(location=str(tmp_path))
    with pytest.raises(
        FeedbackExportError, match=f"^{tmp_path / JULY_NAME}: is a symbolic link, not a regular"
    ):
        resource.read([JULY])
    (tmp_path / JULY_NAME).unlink()
    os.mkfifo(tmp_path / JULY_NAME)
    with pytest.raises(FeedbackExportError, match=f"^{tmp_path / JULY_NAME}: is a special file"):
        resource.read([JULY])
    (tmp_path / JULY_NAME).unlink()
    with (tmp_path / JULY_NAME).open("wb") as file:
        file.truncate(50_000_001)  # sparse: nothing is written, and nothing must be read
    with pytest.raises(
        FeedbackExportError, match=f"^{tmp_path / JULY_NAME}: is larger than 50,000,000 bytes"
    ):
        resource.read([JULY])
    (tmp_path / JULY_NAME).unlink()
    os.link(real, tmp_path / JULY_NAME)
    with pytest.raises(FeedbackExportError, match=f"^{tmp_path / JULY_NAME}: has 2 names"):
        resource.read([JULY])


def test_a_missing_directory_is_the_source_unavailable(tmp_path: Path):
    with pytest.raises(SourceUnavailable, match=f"^{SETTING}: {tmp_path / 'gone'} is no directory"):
        FeedbackExports(location=str(tmp_path / "gone")).read([JULY])


@pytest.mark.parametrize(
    "location", ["", "https://example.org/exports", "S3://bucket/x", "s3://b/x", "s3:/bucket"]
)
def test_a_location_that_is_neither_a_directory_nor_an_s3_prefix_is_refused_at_once(location: str):
    with pytest.raises(ValidationError, match=SETTING):
        FeedbackExports(location=location)


def test_describe_says_where_without_credentials():
    resource = FeedbackExports(
        location="s3://opg-feedback/use", endpoint_url="http://key:secret@127.0.0.1:9000"
    )
    assert (
        resource.describe()
        == "GOV.UK Feedback Explorer exports in s3://opg-feedback/use at http://127.0.0.1:9000"
    )
    assert not resource.embedded and resource.sample_setting is None


def test_exports_on_s3_are_read_with_their_last_modified(aws_endpoint: str):
    client = boto3.client("s3", endpoint_url=aws_endpoint, region_name=REGION)
    client.create_bucket(Bucket="opg-feedback", CreateBucketConfiguration={"LocationConstraint": REGION})
    august = [HEADER, f"2026-08-03 10:00:00,{SLUG},,2,{FIREFOX},service-feedback,{OPG}"]
    client.put_object(Bucket="opg-feedback", Key=f"use/{JULY_NAME}", Body=JULY_EXPORT)
    client.put_object(
        Bucket="opg-feedback", Key=f"use/{NAME.format('2026-08-01', '2026-08-31')}", Body=_export(august)
    )
    client.put_object(Bucket="opg-feedback", Key="use/deeper/readme.txt", Body=b"")
    resource = FeedbackExports(
        location="s3://opg-feedback/use/", endpoint_url=aws_endpoint, region_name=REGION
    )
    reading = resource.read([JULY, AUGUST])
    assert reading.counts == {JULY: JULY_COUNTS, AUGUST: RatingCounts(dissatisfied=1, rated_responses=1)}
    assert reading.warnings == (
        "deeper/ is not a Feedback Explorer export of /done/use-lasting-power-of-attorney "
        "(feedex_<from>_<to>_done_use-lasting-power-of-attorney.csv): not read",
    )
    # An export whose range runs to today: written now (LastModified), so today is not covered.
    key = f"use/{NAME.format('2026-09-01', '2099-12-31')}"
    client.put_object(Bucket="opg-feedback", Key=key, Body=_export([HEADER]))
    written = client.head_object(Bucket="opg-feedback", Key=key)["LastModified"].astimezone(UTC)
    month = Month.containing(written.replace(tzinfo=None))
    reason = resource.rating_counts([month])[month]
    assert f"(s3://opg-feedback/{key} was written at {written:%Y-%m-%d %H:%M:%S} UTC, before " in reason
    assert f"covers {written.date()}" in reason


def test_a_missing_bucket_is_the_source_unavailable(aws_endpoint: str):
    resource = FeedbackExports(
        location="s3://no-such-bucket/use", endpoint_url=aws_endpoint, region_name=REGION
    )
    with pytest.raises(
        SourceUnavailable, match=f"^{SETTING}: S3 at .* failed listing s3://no-such-bucket/use/: NoSuchBucket"
    ):
        resource.read([JULY])


def test_the_sample_serves_deterministic_exports_of_both_kinds(tmp_path: Path):
    assert sample_export(Month.of(2021, 3)) == sample_export(Month.of(2021, 3))
    aggregated, individual = sample_export(Month.of(2025, 12)), sample_export(Month.of(2026, 1))
    assert b"aggregated-service-feedback" in aggregated and b"aggregated-service-feedback" not in individual
    stand_in = EmbeddedFeedbackExports(data_dir=str(tmp_path))
    assert stand_in.embedded and stand_in.sample_setting == SETTING
    counts = stand_in.rating_counts([Month.of(2021, 3), Month.of(2025, 12), Month.of(2026, 1)])
    for month, figures in counts.items():
        assert isinstance(figures, RatingCounts), month
        assert 1000 <= figures.rated_responses <= 3000
    assert stand_in.describe() == f"embedded sample in {tmp_path} ({SETTING} unset)"
    far = Month.containing(datetime.now(UTC).replace(tzinfo=None) + timedelta(days=40))
    assert stand_in.rating_counts([far])[far].startswith("not available yet: no export")
