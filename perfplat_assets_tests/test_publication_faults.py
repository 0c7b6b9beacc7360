"""A publication is never half-done: faults injected into the real targets while a month is published.

S3 is moto's server behind a faulty hop on loopback, the metrics store is the real Postgres (whose backends
the test terminates mid-publication), CKAN is the real CKAN 2.11.6 behind the same hop, and the local
directory is a real tmpfs made read-only or full. After every fault: the targets and the store agree, or
the journal says the publication is incomplete; after one more run everything agrees and the next month
publishes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from perfplat_assets.common.months import Month
from perfplat_assets.configuration import build_resources
from perfplat_assets.measures import measures
from perfplat_assets.services.make_an_lpa.service import MAKE_AN_LPA
from perfplat_assets_tests.ckan.fixture import CkanSite, ckan_action
from perfplat_assets_tests.support.aws import BUCKET, PREFIX
from perfplat_assets_tests.support.ci import unavailable
from perfplat_assets_tests.support.faults import FaultyHop, Reply, S3WritesThenFails
from perfplat_assets_tests.support.run_results import failure_message, materialize_month
from perfplat_assets_tests.support.store import publications, published_records

# Every test here publishes the embedded sample to S3 (and CKAN): the sample guard is off for all of them.
pytestmark = pytest.mark.usefixtures("sample_data_allowed")

MAY, JUNE, JULY = Month.parse("2025-05"), Month.parse("2025-06"), Month.parse("2025-07")
FOLDER = MAKE_AN_LPA.folder  # the cumulative files' folder, in the directory and under the prefix


def _run(month: Month):
    return materialize_month(month)


PUBLICATION = ["make_an_lpa/performance_dataset", "make_an_lpa/data_gov_uk_publication"]


def _publish(month: Month):
    """The month's dataset and publication alone, from its measures already in the store."""
    return materialize_month(month, selection=PUBLICATION)


def _store():
    return build_resources()["metrics_store"].process_config_and_initialize()


def _journal_states() -> list[str]:
    with _store().engine().connect() as connection:
        return list(connection.execute(select(publications.c.state).order_by(publications.c.id)).scalars())


def _store_months() -> list[str]:
    return sorted({Month.parse(key).label for key in _store().read(published_records)["month"]})


# The index of the services at the top (`report.html`) is written after each service's publication, not as
# part of it: the publication's own files are what must agree.
INDEX = "report.html"


def _s3_objects(s3) -> dict[str, bytes]:
    """Every object of the publication under the prefix, by its path there (`<folder>/data.json`, a month
    file's name)."""
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {
        item["Key"][len(PREFIX) :]: s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
        for item in listed
        if item["Key"] != PREFIX + INDEX
    }


def _directory_files(publish: Path) -> dict[str, bytes]:
    """Every published file a reader finds, by its path under the directory (as `_s3_objects` names
    them): the month files at the top, the cumulative files in the service's folder."""
    if not publish.is_dir():
        return {}
    found = [*publish.iterdir(), *((publish / FOLDER).iterdir() if (publish / FOLDER).is_dir() else ())]
    return {
        str(p.relative_to(publish)): p.read_bytes()
        for p in found
        if not p.name.startswith(".") and p.is_file() and p != publish / INDEX
    }


def _months_in(data_json: bytes | None) -> list[str]:
    return sorted({r["_timestamp"][:7] for r in json.loads(data_json)}) if data_json else []


def _targets(publish: Path, s3) -> dict[str, dict[str, bytes]]:
    held = {"directory": _directory_files(publish)}
    if s3 is not None:
        held["s3"] = _s3_objects(s3)
    return held


def assert_agree(publish: Path, s3) -> None:
    """Every target holds the store's publication: the same files, every month with its month file, no
    month file for a month that is not public."""
    months = _store_months()
    held = _targets(publish, s3)
    first = next(iter(held.values()))
    for name, files in held.items():
        assert files == first, f"{name} differs from the other targets"
        assert _months_in(files.get(f"{FOLDER}/data.json")) == months, (
            f"{name}'s data.json is not the store's"
        )
        month_files = {n for n in files if MAKE_AN_LPA.month_file_pattern.fullmatch(n)}
        assert month_files == {MAKE_AN_LPA.month_file_name(Month.parse(m)) for m in months}, name


def assert_agree_or_incomplete(publish: Path, s3) -> str:
    if "applying" in _journal_states():
        return "incomplete"
    assert_agree(publish, s3)
    return "agree"


def assert_repaired_by_one_more_run(
    publish: Path, s3, month: Month, run=_run, and_the_next_month: bool = True
) -> None:
    """One more run of `month` completes or redoes it; then (unless told not to, where a test has shown it
    already) the next month publishes (`run`: every asset, or the publication alone when the months'
    measures are stored already)."""
    again = run(month)
    assert again.success, failure_message(again)
    assert "applying" not in _journal_states()
    assert_agree(publish, s3)
    if not and_the_next_month:
        return
    following = run(month.next())
    assert following.success, failure_message(following)
    assert_agree(publish, s3)
    assert month.next().label in _store_months()


@pytest.fixture
def s3_hop(s3_bucket, aws_endpoint, monkeypatch) -> Iterator[FaultyHop]:
    """S3 publication through a faulty hop in front of moto's server."""
    with FaultyHop(aws_endpoint) as hop:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", hop.url)
        yield hop


def _empty(s3) -> None:
    for key in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=key["Key"])


class _World:
    """What a run left behind, kept to be put back: the data directory (the embedded sources, the metrics
    store and its journal, the published directory and its versions) copied aside, and every object of the
    bucket with its content type. Put back at the same path, so nothing in it can tell it was copied."""

    def __init__(self, data: Path, s3, kept: Path) -> None:
        self.data, self.s3, self.kept = data, s3, kept
        shutil.copytree(data, kept, symlinks=True)
        self.objects = {}
        for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            stored = s3.get_object(Bucket=BUCKET, Key=item["Key"])
            self.objects[item["Key"]] = (stored["Body"].read(), stored["ContentType"])

    def put_back(self) -> None:
        shutil.rmtree(self.data)
        shutil.copytree(self.kept, self.data, symlinks=True)
        _empty(self.s3)
        for key, (body, content_type) in self.objects.items():
            self.s3.put_object(Bucket=BUCKET, Key=key, Body=body, ContentType=content_type)


@pytest.mark.parametrize("mode", ["away", "once"])
def test_s3_failing_after_every_number_of_writes_never_half_publishes(
    mode, s3_bucket, s3_hop, perfplat_env, tmp_path
):
    """`away`: S3 refuses everything after N object writes, so the undo fails too and the journal keeps
    the publication; `once`: only write N+1 is refused, so everything is undone. Every fault point starts
    from the world May's publication left, with June's and July's measures in the store but not published:
    they run once, that world is put back before each point, and each point publishes June (the dataset
    and the publication, the steps that write)."""
    publish = perfplat_env / "publish"
    assert _run(MAY).success
    for month in (JUNE, JULY):
        computed = materialize_month(
            month, selection=[f"make_an_lpa/{measure.name}" for measure in measures()]
        )
        assert computed.success, failure_message(computed)
    may = _World(perfplat_env, s3_bucket, tmp_path / "after-may")
    points = []
    for allowed in range(0, 50):
        may.put_back()
        assert_agree(publish, s3_bucket)
        assert _store_months() == ["2025-05"]
        s3_hop.rule = fault = S3WritesThenFails(allowed, mode)
        result = _publish(JUNE)
        s3_hop.heal()
        if result.success:  # every write of the publication got through: the last fault point is passed
            # A refusal after them is the index's (`report.html` at the top), written after the publication:
            # said in the log, never a failure of the run.
            index_refused = fault.refused is not None and fault.refused.endswith(f"/{PREFIX}{INDEX}")
            assert fault.failed == index_refused and (index_refused or fault.writes == allowed)
            assert_agree(publish, s3_bucket)
            break
        message = failure_message(result)
        assert "failed at S3" in message and "AccessDenied" in message
        outcome = assert_agree_or_incomplete(publish, s3_bucket)
        if mode == "once":
            assert outcome == "agree", "a refused write is undone everywhere"
            assert "Nothing remains published" in message
            assert "S3: restored to the previous publication" in message
            assert "metrics store: unchanged" in message
        else:
            assert outcome == "incomplete"
            assert "Nothing remains published" not in message and "Nothing was published" not in message
            assert "S3: may hold part of the new publication" in message
            assert "the next run completes it" in message
        points.append(allowed)
        # Repaired by one more run at every point; that the month after then publishes too, at the first.
        assert_repaired_by_one_more_run(
            publish, s3_bucket, JUNE, run=_publish, and_the_next_month=not points[:-1]
        )
    # A fault before each of June's object writes (data.json, data.csv, its CSVW, notes.md, report.html,
    # the month file).
    assert points == list(range(6)), points


def test_slow_s3_publishes_whole(s3_bucket, s3_hop, perfplat_env):
    assert _run(MAY).success
    s3_hop.delay = lambda method, path: 0.2 if method == "PUT" else 0.0
    assert _run(JUNE).success
    assert_agree(perfplat_env / "publish", s3_bucket)


def test_the_store_connection_terminated_mid_publication_is_repaired(
    s3_bucket, s3_hop, perfplat_env, postgres_url, monkeypatch
):
    """Slow S3 holds the apply phase open; at its first write every backend of the store's database is
    terminated, the connection holding the publication lock with them."""
    monkeypatch.setenv("PERFPLAT_METRICS_DB_URL", postgres_url)
    assert _run(MAY).success
    database = postgres_url.rsplit("/", 1)[-1]
    admin = create_engine(postgres_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    terminated: list[int] = []

    def terminate(method: str, path: str) -> None:
        if method == "PUT" and not terminated:
            with admin.connect() as connection:
                terminated.extend(
                    connection.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = :db AND pid <> pg_backend_pid()"
                        ),
                        {"db": database},
                    ).scalars()
                )

    s3_hop.on_request = terminate
    s3_hop.delay = lambda method, path: 0.2 if method == "PUT" else 0.0
    result = _run(JUNE)
    s3_hop.heal()
    admin.dispose()
    assert terminated, "the fault was injected"
    assert not result.success
    message = failure_message(result)
    assert "connection holding the publication lock was lost" in message
    assert "OperationalError" not in message.split("Failure:", 1)[-1]
    assert assert_agree_or_incomplete(perfplat_env / "publish", s3_bucket) == "incomplete"
    assert_repaired_by_one_more_run(perfplat_env / "publish", s3_bucket, JUNE)


def test_an_unreadable_data_json_is_refused_not_replaced(s3_bucket, perfplat_env):
    assert _run(MAY).success
    before = _s3_objects(s3_bucket)
    truncated = before[f"{FOLDER}/data.json"][: len(before[f"{FOLDER}/data.json"]) // 2]
    s3_bucket.put_object(Bucket=BUCKET, Key=f"{PREFIX}{FOLDER}/data.json", Body=truncated)
    result = _run(JUNE)
    assert not result.success
    message = failure_message(result)
    assert "data.json in the s3 target cannot be read as published records" in message
    assert "Nothing was published" in message
    assert _s3_objects(s3_bucket) == {**before, f"{FOLDER}/data.json": truncated}
    assert _store_months() == ["2025-05"]
    assert _months_in(_directory_files(perfplat_env / "publish")[f"{FOLDER}/data.json"]) == ["2025-05"]


# The local directory


def test_a_folder_squatting_on_a_published_name_is_refused_before_anything_is_written(
    s3_bucket, perfplat_env
):
    """A directory squats on May's month file: the directory target finds it is not perfplat's when it reads
    what it holds, so June's publication is refused before any target is touched."""
    publish = perfplat_env / "publish"
    assert _run(MAY).success
    before = _targets(publish, s3_bucket)
    squatter = publish / MAKE_AN_LPA.month_file_name(MAY)
    squatter.unlink()
    squatter.mkdir()
    (squatter / "something").write_text("an operator's file")
    result = _run(JUNE)
    assert not result.success
    message = failure_message(result)
    assert f"{MAKE_AN_LPA.month_file_name(MAY)} is a directory where perfplat publishes its file" in message
    assert f"remove {MAKE_AN_LPA.month_file_name(MAY)}" in message and "Nothing was published" in message
    assert _s3_objects(s3_bucket) == before["s3"]
    assert _store_months() == ["2025-05"]
    assert json.loads((publish / FOLDER / "data.json").read_bytes()) == json.loads(
        before["directory"][f"{FOLDER}/data.json"]
    )
    (squatter / "something").unlink()
    squatter.rmdir()
    assert_repaired_by_one_more_run(publish, s3_bucket, JUNE)


@pytest.fixture
def publish_mount(perfplat_env: Path) -> Iterator[Path]:
    """The publication directory on a tmpfs of its own (1 MiB: a few versions of a few months), so it can
    be made read-only or full."""
    publish = perfplat_env / "publish"
    publish.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(publish)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        unavailable(f"mounting a tmpfs needs root (or CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        yield publish
    finally:
        subprocess.run(["umount", "-l", str(publish)], check=False)


def test_a_read_only_directory_changes_nothing_anywhere(s3_bucket, perfplat_env, publish_mount):
    assert _run(MAY).success
    before = _targets(publish_mount, s3_bucket)
    subprocess.run(["mount", "-o", "remount,ro", str(publish_mount)], check=True)
    result = _run(JUNE)
    subprocess.run(["mount", "-o", "remount,rw", str(publish_mount)], check=True)
    assert not result.success
    message = failure_message(result)
    # Found at the start of the run, before any source is asked (the run's own check of the directory).
    assert (
        f"PERFPLAT_PUBLISH_DIR: perfplat cannot write in {publish_mount}: it is on a read-only file "
        "system; remount that read-write, or publish elsewhere. Nothing was asked of any source; nothing was "
        "published."
    ) in message
    assert _targets(publish_mount, s3_bucket) == before
    assert _store_months() == ["2025-05"]
    assert_repaired_by_one_more_run(publish_mount, s3_bucket, JUNE)


def test_a_full_disk_changes_nothing_anywhere(s3_bucket, perfplat_env, publish_mount):
    assert _run(MAY).success
    before = _targets(publish_mount, s3_bucket)
    filler = publish_mount / ".filler"
    with open(filler, "wb", buffering=0) as file:
        try:
            while True:
                file.write(b"\0" * 4096)
        except OSError:
            pass
    result = _run(JUNE)
    assert not result.success
    message = failure_message(result)
    # Found at the start of the run, before any source is asked (a disk that fills while the directory is
    # written: test_file_system_causes.py).
    assert (
        f"PERFPLAT_PUBLISH_DIR: perfplat cannot write in {publish_mount}: its file system is full (no space "
        "left on device). Nothing was asked of any source; nothing was published."
    ) in message
    assert _targets(publish_mount, s3_bucket) == before
    filler.unlink()
    assert_repaired_by_one_more_run(publish_mount, s3_bucket, JUNE)


# CKAN, last


def _ckan_resources(site: CkanSite) -> list[dict]:
    return ckan_action(site, "package_show", {"id": site.dataset})["resources"]


@pytest.fixture
def ckan_hop(ckan_site: CkanSite, s3_bucket, monkeypatch) -> Iterator[FaultyHop]:
    with FaultyHop(ckan_site.url) as hop:
        monkeypatch.setenv("PERFPLAT_CKAN_URL", hop.url)
        monkeypatch.setenv("PERFPLAT_CKAN_API_TOKEN", ckan_site.api_token)
        monkeypatch.setenv("PERFPLAT_CKAN_DATASET", ckan_site.dataset)
        yield hop


def _refuse(action: str):
    def rule(method: str, path: str) -> Reply | None:
        if path.rstrip("/").endswith(f"/{action}"):
            body = b'{"success": false, "error": {"message": "Internal Server Error"}}'
            return Reply(500, body, "application/json")
        return None

    return rule


@pytest.mark.parametrize("action", ["resource_create", "resource_patch"])
def test_a_ckan_failure_leaves_ckan_pending_and_the_next_month_completes_it(
    action, ckan_site, ckan_hop, s3_bucket, perfplat_env
):
    publish = perfplat_env / "publish"
    first = MAY if action == "resource_create" else JUNE
    if action == "resource_patch":
        assert _run(MAY).success
    ckan_hop.rule = _refuse(action)
    result = _run(first)
    ckan_hop.heal()
    assert not result.success
    message = failure_message(result)
    assert f"updating CKAN failed: CKAN {action}" in message and "CKAN: pending" in message
    assert "Nothing was published" not in message
    assert "applying" in _journal_states()
    assert first.label in _store_months(), "the store keeps what the files show"
    assert _months_in(_directory_files(publish)[f"{FOLDER}/data.json"]) == _store_months()

    following = _run(first.next())  # the next month: recovery completes CKAN, then it publishes
    assert following.success, failure_message(following)
    recovery = following.asset_materializations_for_node("make_an_lpa__data_gov_uk_publication")[0].metadata[
        "recovery"
    ]
    assert "completed by this run" in recovery.value
    assert "applying" not in _journal_states()
    [resource] = _ckan_resources(ckan_site)
    assert resource["datafile-date"] == first.next().key
    assert_agree(publish, s3_bucket)


def test_the_directory_is_one_publication_at_a_time(s3_bucket, perfplat_env):
    """Every published name resolves through one switch, so no reader sees two publications side by side;
    the previous version stays for an undo, and nothing else is left behind."""
    publish = perfplat_env / "publish"
    assert _run(MAY).success
    assert _run(JUNE).success
    current = os.readlink(publish / FOLDER / ".current")
    for name in _directory_files(publish):
        expected = f"{FOLDER}/.current/{name}" if "/" not in name else f".current/{Path(name).name}"
        assert os.readlink(publish / name) == expected
    versions = {f".versions/{p.name}" for p in (publish / FOLDER / ".versions").iterdir()}
    assert len(versions) == 2 and current in versions
    [previous] = versions - {current}
    assert _months_in((publish / FOLDER / previous / "data.json").read_bytes()) == ["2025-05"]
    assert not list(publish.glob(".*.tmp")) and not list((publish / FOLDER).glob(".*.tmp"))


def test_files_published_before_versioning_are_adopted(s3_bucket, perfplat_env):
    """A directory written by an earlier perfplat (plain files, at the top: it published one service alone)
    keeps every file through the change, carried over into the service's folder."""
    publish = perfplat_env / "publish"
    assert _run(MAY).success
    plain = {Path(name).name: content for name, content in _directory_files(publish).items()}
    for entry in list(publish.iterdir()):
        if entry.is_symlink():
            entry.unlink()
    subprocess.run(["rm", "-rf", str(publish / FOLDER)], check=True)
    for name, content in plain.items():
        (publish / name).write_bytes(content)
    assert _run(JUNE).success
    assert_agree(publish, s3_bucket)
    assert (
        _directory_files(publish)[MAKE_AN_LPA.month_file_name(MAY)] == plain[MAKE_AN_LPA.month_file_name(MAY)]
    )
