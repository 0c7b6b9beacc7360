"""Taking over OPG's live series: `perfplat import-published` (the installed command) and its Dagster job,
then publishing the next month on the embedded default, to the directory and to S3 on moto's server."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from dagster import DagsterInstance, materialize
from sqlalchemy import select

from perfplat_assets import cli
from perfplat_assets.common.months import Month, months_between
from perfplat_assets.configuration import build_resources
from perfplat_assets.definitions import assets, defs
from perfplat_assets.services.make_an_lpa.service import MAKE_AN_LPA
from perfplat_assets_tests.support.aws import BUCKET, PREFIX
from perfplat_assets_tests.support.ci import needs_jq
from perfplat_assets_tests.support.published import published_record
from perfplat_assets_tests.support.run_results import failure_message
from perfplat_assets_tests.support.services import BIN
from perfplat_assets_tests.support.store import imports, published_records

PERFPLAT = str(BIN / "perfplat")
FIRST, LAST_PUBLISHED = Month.parse("2021-03"), Month.parse("2026-06")
RATINGS = ("very-satisfied", "satisfied", "neither", "dissatisfied", "very-dissatisfied")


def opg_shaped_series() -> list[dict]:
    """Like OPG's file: 64 months from 2021-03, satisfaction, take-up with two decimals and uptime every
    month (in the order the hand process wrote them), ratings from 2025-05, take-up a month late, and five
    take-up counts stored as strings (2026-01 to 2026-05). Where the counts are, the satisfaction percentage
    agrees with them, as the import requires."""
    records = []
    for index, month in enumerate(months_between(FIRST, LAST_PUBLISHED)):
        take_up = round(29 + (index * 37 % 160) / 10 + 0.01 * (index % 9), 2)
        satisfaction = 84 + index % 8
        if month.label >= "2025-05":  # what the counts below give: weighted about 69.9, top-two-box 65.3
            satisfaction = 70 if month.label < "2026-04" else 65
        day = [
            published_record(month, "user-satisfaction-percent", satisfaction),
            published_record(
                month, "digital-take-up", str(take_up) if "2026-01" <= month.label <= "2026-05" else take_up
            ),
            published_record(month, "uptime-percent", 100),
        ]
        if month == LAST_PUBLISHED:
            day.pop(1)  # take-up arrives about a month late
        if month.label >= "2025-05":
            day += [published_record(month, t, 8000 // (n + 1) + index) for n, t in enumerate(RATINGS)]
        records += day if index % 3 else list(reversed(day))
    return records


def opg_validator_problems(records: list[dict]) -> list[str]:
    """The rules of OPG's validate/index.js: required fields, count a number, service and dataType letters
    and dashes, period one of year/month/week/day, (_timestamp, dataType) unique."""
    problems, seen = [], set()
    for position, item in enumerate(records):
        missing = {"_timestamp", "service", "channel", "count", "dataType", "period"} - set(item)
        if missing:
            problems.append(f"{position}: missing {sorted(missing)}")
        count = item.get("count")
        if isinstance(count, bool) or not isinstance(count, int | float):
            problems.append(f"{position}: count {count!r} is not a number")
        for name in ("service", "dataType"):
            if not re.fullmatch(r"[A-Za-z-]+", str(item.get(name))):
                problems.append(f"{position}: {name} {item.get(name)!r}")
        if item.get("period") not in ("year", "month", "week", "day"):
            problems.append(f"{position}: period {item.get('period')!r}")
        key = (item.get("_timestamp"), item.get("dataType"))
        if key in seen:
            problems.append(f"{position}: duplicate {key}")
        seen.add(key)
    return problems


def _import(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PERFPLAT, "import-published", str(path)], capture_output=True, text=True, env=os.environ
    )


def _store_rows() -> list[tuple]:
    frame = build_resources()["metrics_store"].read(published_records)
    return sorted(zip(frame["month"], frame["data_type"], frame["count"], strict=True))


@pytest.fixture
def opg_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(opg_shaped_series(), indent=2) + "\n", encoding="utf-8")
    return path


def test_the_test_series_is_shaped_like_opgs():
    series = opg_shaped_series()
    assert len(series) == 261 and len({r["_timestamp"] for r in series}) == 64
    assert sum(isinstance(r["count"], str) for r in series) == 5
    assert len(opg_validator_problems(series)) == 5, "OPG's own validator rejects the string counts"


@needs_jq
def test_import_then_publish_the_next_month_keeps_the_whole_series(
    opg_file, s3_bucket, sample_data_allowed, perfplat_env, tmp_path
):
    imported = _import(opg_file)
    assert imported.returncode == 0, imported.stderr
    assert "261 records for 64 months (2021-03 to 2026-06)" in imported.stdout
    assert "Imported 261 records" in imported.stdout
    assert "5 counts were JSON strings and are now numbers" in imported.stdout
    assert "(2026-01 digital-take-up): '" in imported.stdout
    rows = _store_rows()

    july = Month.parse("2026-07")
    result = materialize(
        assets, partition_key=july.key, resources=build_resources(), instance=DagsterInstance.ephemeral()
    )
    assert result.success
    publish = perfplat_env / "publish"
    published = json.loads((publish / MAKE_AN_LPA.folder / "data.json").read_text(encoding="utf-8"))
    assert not opg_validator_problems(published)
    keys = [(r["_timestamp"], r["dataType"]) for r in published]
    assert keys == sorted(keys) and len(keys) == len(set(keys))
    expected = {(r["_timestamp"], r["dataType"]): float(r["count"]) for r in opg_shaped_series()}
    assert {
        k: r["count"] for k, r in zip(keys, published, strict=True) if k[0] < july.published_timestamp
    } == expected
    assert {r["_timestamp"][:7] for r in published} == {m.label for m in months_between(FIRST, july)}
    take_up = {r["_timestamp"][:7]: r["count"] for r in published if r["dataType"] == "digital-take-up"}
    assert any(round(v, 1) != v for v in take_up.values()), "two-decimal take-up is kept as published"
    assert {
        r["count"] for r in published if r["dataType"] == "uptime-percent" and r["_timestamp"] < "2026-07"
    } == {100}
    assert '"count": 100,' in (publish / MAKE_AN_LPA.folder / "data.json").read_text(encoding="utf-8")
    # Every month has its month file, in the directory and in S3.
    objects = {item["Key"] for item in s3_bucket.list_objects_v2(Bucket=BUCKET)["Contents"]}
    for month in months_between(FIRST, july):
        assert (publish / MAKE_AN_LPA.month_file_name(month)).is_file(), month
        assert PREFIX + MAKE_AN_LPA.month_file_name(month) in objects, month

    # OPG's automation appends the month file to its data.json with `jq -s flatten`: no duplicate.
    merged = subprocess.run(
        ["jq", "-s", "flatten", str(opg_file), str(publish / MAKE_AN_LPA.month_file_name(july))],
        capture_output=True,
        text=True,
        check=True,
    )
    merged_keys = [(r["_timestamp"], r["dataType"]) for r in json.loads(merged.stdout)]
    assert (
        len(merged_keys)
        == len(set(merged_keys))
        == 261 + len(json.loads((publish / MAKE_AN_LPA.month_file_name(july)).read_text()))
    )
    month_file_text = (publish / MAKE_AN_LPA.month_file_name(july)).read_text(encoding="utf-8")
    assert month_file_text.startswith('[\n  {\n    "_timestamp"'), "a JSON array indented by 2"

    again = _import(opg_file)
    assert again.returncode == 0 and "nothing changed" in again.stdout
    assert _store_rows() == rows + [r for r in _store_rows() if r[0] == july.key]


def test_a_record_breaking_the_format_or_repeated_is_refused_with_its_position(tmp_path, perfplat_env):
    series = opg_shaped_series()
    series[6]["count"] = "about 40"
    series[9] = dict(series[2])
    series[12]["dataType"] = "Digital Take Up"
    path = tmp_path / "data.json"
    path.write_text(json.dumps(series), encoding="utf-8")
    refused = _import(path)
    assert refused.returncode == 2
    assert "3 record(s) break the published format" in refused.stderr
    assert "record 7: count 'about 40' is not a number" in refused.stderr
    assert (
        f"record 10 repeats ({series[2]['_timestamp']}, {series[2]['dataType']}) of record 3"
        in refused.stderr
    )
    assert "record 13: dataType 'Digital Take Up' is not letters and dashes" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert _store_rows() == []


@pytest.mark.parametrize(
    "content, message",
    [
        (b'[{"_timestamp": "2021-03-01T00:00:00+00:00", ', "is not valid JSON"),
        ("[]".encode("utf-16"), "is not UTF-8"),
        (b'{"records": []}', "holds a JSON dict, not the published array"),
    ],
)
def test_a_file_that_is_not_a_published_series_is_refused(content, message, tmp_path, perfplat_env):
    path = tmp_path / "data.json"
    path.write_bytes(content)
    refused = _import(path)
    assert refused.returncode == 2 and message in refused.stderr and "Traceback" not in refused.stderr
    assert _store_rows() == []


def test_perfplats_own_figures_take_precedence_and_differences_are_reported(
    opg_file, perfplat_env, sample_data_allowed
):
    june = Month.parse("2026-06")
    assert materialize(
        assets, partition_key=june.key, resources=build_resources(), instance=DagsterInstance.ephemeral()
    ).success
    ours = {r for r in _store_rows() if r[0] == june.key}
    imported = _import(opg_file)
    assert imported.returncode == 0, imported.stderr
    assert "values differ from what the store holds; the store's are kept" in imported.stdout
    assert re.search(r"2026-06 user-satisfaction-percent: store \d+(\.0)?, file \d+", imported.stdout)
    assert {r for r in _store_rows() if r[0] == june.key} == ours
    assert len({r[0] for r in _store_rows()}) == 64


def test_the_import_job_does_the_same_from_the_ui(opg_file, perfplat_env):
    job = defs.get_job_def("import_published_series")
    result = job.execute_in_process(
        run_config={"ops": {"import_published_data_json": {"config": {"path": str(opg_file)}}}},
        instance=DagsterInstance.ephemeral(),
        resources={"metrics_store": build_resources()["metrics_store"]},
    )
    assert result.success
    assert len(_store_rows()) == 261
    with build_resources()["metrics_store"].engine().connect() as connection:
        [row] = connection.execute(select(imports)).mappings().all()
    assert row["records_in_file"] == 261 and row["records_imported"] == 261 and len(row["digest"]) == 64
    bad = opg_file.parent / "missing.json"
    failed = job.execute_in_process(
        run_config={"ops": {"import_published_data_json": {"config": {"path": str(bad)}}}},
        instance=DagsterInstance.ephemeral(),
        resources={"metrics_store": build_resources()["metrics_store"]},
        raise_on_error=False,
    )
    assert not failed.success and "cannot be read: No such file or directory" in failure_message(failed)


def test_imported_months_are_recorded_on_the_publication_once_it_writes_them(
    opg_file, perfplat_env, monkeypatch
):
    """After the import, the next publication run records each imported month on data_gov_uk_publication,
    tagged with the file's sha256; the measures' partitions keep only what perfplat computed."""
    # The embedded sample stands in for the real sources beside the real history: a mix the store refuses
    # unless PERFPLAT_ALLOW_SAMPLE_DATA says so.
    monkeypatch.setenv("PERFPLAT_ALLOW_SAMPLE_DATA", "true")
    import hashlib

    from dagster import AssetKey

    assert _import(opg_file).returncode == 0
    digest = hashlib.sha256(opg_file.read_bytes()).hexdigest()
    instance = DagsterInstance.ephemeral()
    july = Month.parse("2026-07")
    assert materialize(assets, partition_key=july.key, resources=build_resources(), instance=instance).success
    publication = AssetKey(["make_an_lpa", "data_gov_uk_publication"])
    materialized = instance.get_materialized_partitions(publication)
    assert materialized == {m.key for m in months_between(FIRST, july)}  # 65 months: 64 imported, July
    records = instance.fetch_materializations(publication, limit=200).records
    by_month = {r.partition_key: r.asset_materialization for r in records}
    assert by_month["2021-03-01"].tags == {"perfplat/imported_sha256": digest[:12]}
    assert by_month["2021-03-01"].metadata["import_sha256"].value == digest
    assert "perfplat/imported_sha256" not in (by_month[july.key].tags or {})
    assert instance.get_materialized_partitions(AssetKey(["make_an_lpa", "uptime"])) == {july.key}
    # A second run imports nothing new, so it records no imported month again.
    august = Month.parse("2026-08")
    assert materialize(
        assets, partition_key=august.key, resources=build_resources(), instance=instance
    ).success
    assert len(instance.fetch_materializations(publication, limit=200).records) == len(records) + 1


# One import, however it is started: the command line and the UI's job judge a month by the schedule of
# methods the runs are given, with the same rule for a month whose percentage its own counts do not give.

MAY_2023 = Month.parse("2023-05")
# By hand: ten responses of each rating give the weighted GDS score (0+25+50+75+100)·10/50 = 50 and the
# top-two-box share 100·(10+10)/50 = 40; OPG's file says 50.
TOP_TWO_BOX_REASON = (
    "user-satisfaction-percent 50 is not 40, what 2023-05's five rating counts give by the top-two-box "
    "method (40.00, rounded half up)"
)


def _may_2023_file(tmp_path: Path) -> Path:
    path = tmp_path / "may-2023.json"
    records = [published_record(MAY_2023, "user-satisfaction-percent", 50)]
    records += [published_record(MAY_2023, data_type, 10) for data_type in RATINGS]
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def _flagged() -> list[tuple]:
    frame = build_resources()["metrics_store"].read(published_records)
    frame = frame[frame["inconsistent"].notna()]
    return list(zip(frame["month"], frame["data_type"], frame["count"], frame["inconsistent"], strict=True))


@pytest.mark.parametrize("started_by", ["the command line", "the UI's job"])
def test_an_import_judges_a_month_by_the_runs_method_however_it_is_started(
    started_by, tmp_path, perfplat_env, monkeypatch, capsys
):
    path = _may_2023_file(tmp_path)
    monkeypatch.setenv("PERFPLAT_MAKE_AN_LPA_SATISFACTION_METHODS", "2021-03:top-two-box")
    if started_by == "the command line":
        assert cli.main(["import-published", str(path)]) == 0
        said = capsys.readouterr().out
    else:
        resources = build_resources()  # what the code location gives its runs
        # The run's own process may not carry the setting: the job reads the runs' resources, not it.
        monkeypatch.delenv("PERFPLAT_MAKE_AN_LPA_SATISFACTION_METHODS")
        result = defs.get_job_def("import_published_series").execute_in_process(
            run_config={"ops": {"import_published_data_json": {"config": {"path": str(path)}}}},
            instance=DagsterInstance.ephemeral(),
            resources=resources,
        )
        [output] = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
        said = output.step_output_data.metadata["report"].value
    assert "1 month's published values disagree with each other" in said
    assert f"2023-05: {TOP_TWO_BOX_REASON}" in said
    assert _flagged() == [("2023-05-01", "user-satisfaction-percent", 50.0, TOP_TWO_BOX_REASON)]


def test_the_history_of_a_service_the_deployment_does_not_run_is_refused_naming_the_setting(
    tmp_path, perfplat_env, capsys
):
    path = tmp_path / "use.json"
    records = [published_record(MAY_2023, "user-satisfaction-percent", 50) | {"service": "use-an-lpa"}]
    path.write_text(json.dumps(records), encoding="utf-8")
    assert cli.main(["import-published", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"perfplat import-published: {path} holds Use an LPA's published series, which this deployment does "
        "not publish: add use_an_lpa to PERFPLAT_SERVICES to import it\n"
    )
    assert _store_rows() == []


# Causes named truly: a bad month or a bad number names the record's position and the limit, in one line.

# (field, the JSON written for it, what the refusal says of it), each in a record of its own, from the first.
BAD_VALUES = [
    (
        "count",
        '"' + "9" * 400 + '"',  # a count published as a string, converted, and far above the bound
        "count 999999999999… (400 characters) is above 100, the most a satisfaction percentage can be",
    ),
    (
        "_timestamp",
        '"2024-13-01T00:00:00+00:00"',
        "_timestamp 2024-13-01T00:00:00+00:00 has month 13, where a month is 01 to 12",
    ),
    (
        "_timestamp",
        '"0000-05-01T00:00:00+00:00"',
        "_timestamp 0000-05-01T00:00:00+00:00 has year 0000, where a year is 0001 to 9999",
    ),
    (
        "count",
        "9" * 100_000,
        "count 999999999999… (100,000 characters) is above 999999999, the most a rating count can be",
    ),
    ("count", "1e999", "count 1e999 is above 999999999, the most a rating count can be"),
    (
        "count",
        "-" + "9" * 5000 + ".5",  # 1 + 5,000 + 2 characters
        "count -99999999999… (5,003 characters) is negative: 0 is the least a rating count can be",
    ),
]


def test_a_bad_month_or_number_names_its_record_and_the_limit_in_one_line(tmp_path, perfplat_env, capsys):
    records = [published_record(MAY_2023, "user-satisfaction-percent", 50)]
    records += [published_record(MAY_2023, data_type, 10) for data_type in RATINGS]
    for position, (field, _, _) in enumerate(BAD_VALUES, start=1):
        records[position - 1][field] = f"BAD{position}"
    text = json.dumps(records)
    for position, (_, raw, _) in enumerate(BAD_VALUES, start=1):
        text = text.replace(f'"BAD{position}"', raw)
    path = tmp_path / "data.json"
    path.write_text(text, encoding="utf-8")
    assert cli.main(["import-published", str(path)]) == 2
    named = " | ".join(f"record {n}: {said}" for n, (_, _, said) in enumerate(BAD_VALUES, start=1))
    assert capsys.readouterr().err == (
        f"perfplat import-published: {path} was not imported: 6 record(s) break the published format: "
        f"{named}\n"
    )
    assert _store_rows() == []
