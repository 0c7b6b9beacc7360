"""OPG's layout, for several services publishing into one directory and one bucket: each service's cumulative
files in its folder (`<stem>_service/data.json`, ...), its month files at the top, where OPG's automation
looks, and one service's publication never touching another's. The single-service layout the earlier
perfplat left (Make an LPA alone, flat) is carried over by Make an LPA, byte for byte, and refused to every
other service until then. In S3, a month file perfplat did not write is another writer's until the
deployment says perfplat has taken the service over.

Real parts throughout: the targets over a real Postgres metrics store (a database per service, since the store
is not yet scoped by service), moto's S3 server behind a hop on loopback that sees every request and can
refuse one, and `jq` as OPG's automation runs it. Expected trees, keys and messages are written out by hand.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from dagster_aws.s3 import S3Resource
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from perfplat_assets.common.months import Month
from perfplat_assets.common.sqs import LOCAL_CREDENTIALS
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.publication.committing.publish import PublicationRequest, publish
from perfplat_assets.publication.committing.target import PublicationFailed
from perfplat_assets.publication.targets.ckan import CkanCatalogue
from perfplat_assets.publication.targets.directory import PublicationDirectory
from perfplat_assets.publication.targets.directory_versions import (
    directory_versions_of,
    record_directory_version,
)
from perfplat_assets.publication.targets.publisher import DataGovUkPublisher
from perfplat_assets.publication.targets.s3 import S3Publication
from perfplat_assets.services.registry import service_called
from perfplat_assets_tests.support.aws import BUCKET, REGION
from perfplat_assets_tests.support.ci import needs_jq
from perfplat_assets_tests.support.faults import S3_ACCESS_DENIED, FaultyHop, S3WritesThenFails

MAKE, USE = service_called("make_an_lpa"), service_called("use_an_lpa")
APRIL, MAY, JUNE, JULY = (Month.parse(f"2025-0{m}") for m in (4, 5, 6, 7))
CUMULATIVE = ("data.json", "data.csv", "data.csv-metadata.json", "revisions.csv", "notes.md", "report.html")
MAKE_FOLDER, USE_FOLDER = (
    "make_a_lasting_power_of_attorney_service",
    "use_a_lasting_power_of_attorney_service",
)
# Use an LPA publishes its satisfaction: the five counts and the percentage they give (GDS's weighted score
# and the top-two-box share agree on these: 90).
SATISFACTION = {
    "very-satisfied": 70.0,
    "satisfied": 20.0,
    "neither": 10.0,
    "dissatisfied": 0.0,
    "very-dissatisfied": 0.0,
    "user-satisfaction-percent": 90.0,
}


class _Log:
    def info(self, message: str) -> None:
        pass

    def warning(self, message: str) -> None:
        pass


def _request(service, *months: Month, dry_run: bool = False) -> PublicationRequest:
    if service == MAKE:
        values = {(month, "uptime-percent"): 99.5 for month in months}
    else:
        values = {(month, data_type): value for month in months for data_type, value in SATISFACTION.items()}
    run_id = f"{service.name}-{'-'.join(m.key for m in months)}-{uuid.uuid4().hex[:6]}"
    return PublicationRequest(service, list(months), values, run_id, None, JULY, dry_run)


def _database(server: URL) -> Iterator[str]:
    name = f"perfplat_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def stores(postgres_url: str, postgres_server: URL) -> Iterator[dict[str, MetricsStore]]:
    """A metrics store per service: the store's tables do not say whose a published value is yet."""
    for other in _database(postgres_server):
        yield {MAKE.name: MetricsStore(url=postgres_url), USE.name: MetricsStore(url=other)}


@pytest.fixture
def s3(aws_endpoint: str):
    client = boto3.client("s3", endpoint_url=aws_endpoint, region_name=REGION)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    return client


@pytest.fixture
def hop(aws_endpoint: str, s3) -> Iterator[FaultyHop]:
    """moto's S3 behind a hop that records every request and can refuse one."""
    with FaultyHop(aws_endpoint) as running:
        yield running


@pytest.fixture
def top(tmp_path: Path) -> Path:
    return tmp_path / "publish"


def _directory(top: Path, stores, service) -> PublicationDirectory:
    return PublicationDirectory(path=str(top), store=stores[service.name], service=service.name)


def _bucket(hop: FaultyHop, service, *, prefix: str = "", taken_over: bool = False) -> S3Publication:
    return S3Publication(
        s3=S3Resource(endpoint_url=hop.url, region_name=REGION, **LOCAL_CREDENTIALS),
        bucket=BUCKET,
        prefix=prefix,
        service=service.name,
        taken_over=taken_over,
    )


def _publish(top, stores, hop, service, *months: Month, dry_run: bool = False):
    targets = [_directory(top, stores, service), _bucket(hop, service)]
    publish(stores[service.name], targets, _request(service, *months, dry_run=dry_run), _Log())
    return targets


def _tree(top: Path) -> dict[str, tuple]:
    """What a reader of the directory finds, by path: a link and its target (`.current`'s as
    `.versions/<current>`), a folder, or a file; what the versions hold is left out."""
    found: dict[str, tuple] = {}
    for path in sorted(top.rglob("*")):
        key = str(path.relative_to(top))
        if ".versions" in path.relative_to(top).parts[:-1]:
            continue
        if path.is_symlink():
            target = os.readlink(path)
            found[key] = ("link", ".versions/<current>" if path.name == ".current" else target)
        else:
            found[key] = ("folder",) if path.is_dir() else ("file",)
    return found


def _everything(root: Path) -> dict[str, tuple]:
    """Every entry under `root`, versions and all, as it is: bytes, a link's target, a folder; with its
    inode and change time, which any write, rename or link of it moves."""
    found: dict[str, tuple] = {}
    for path in sorted(root.rglob("*")):
        status = path.lstat()
        if path.is_symlink():
            what: tuple = ("link", os.readlink(path))
        elif path.is_dir():
            what = ("folder",)
        else:
            what = ("file", path.read_bytes())
        found[str(path.relative_to(root))] = (*what, status.st_ino, status.st_ctime_ns)
    return found


def _objects(s3) -> dict[str, tuple]:
    """Every object in the bucket: its bytes, content type and metadata."""
    found = {}
    for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        stored = s3.get_object(Bucket=BUCKET, Key=item["Key"])
        found[item["Key"]] = (stored["Body"].read(), stored["ContentType"], stored["Metadata"])
    return found


def _theirs(entries: dict, service) -> dict:
    """The entries of `service`: its folder and its month files."""
    return {
        key: value
        for key, value in entries.items()
        if key.startswith(f"{service.folder}/")
        or key == service.folder
        or service.month_file_pattern.fullmatch(key)
    }


# --- two services, one directory, one bucket ---------------------------------------------------------------


def test_two_services_publish_into_one_directory_and_one_bucket_in_opgs_layout(top, stores, hop, s3):
    _publish(top, stores, hop, MAKE, MAY)
    _publish(top, stores, hop, USE, MAY)
    use_entries, use_objects = _theirs(_everything(top), USE), _theirs(_objects(s3), USE)
    hop.seen.clear()
    _publish(top, stores, hop, MAKE, JUNE)

    assert _tree(top) == {
        "make_a_lasting_power_of_attorney_25_05.json": (
            "link",
            "make_a_lasting_power_of_attorney_service/.current/make_a_lasting_power_of_attorney_25_05.json",
        ),
        "make_a_lasting_power_of_attorney_25_06.json": (
            "link",
            "make_a_lasting_power_of_attorney_service/.current/make_a_lasting_power_of_attorney_25_06.json",
        ),
        "make_a_lasting_power_of_attorney_service": ("folder",),
        "make_a_lasting_power_of_attorney_service/.current": ("link", ".versions/<current>"),
        "make_a_lasting_power_of_attorney_service/.versions": ("folder",),
        "make_a_lasting_power_of_attorney_service/data.csv": ("link", ".current/data.csv"),
        "make_a_lasting_power_of_attorney_service/data.csv-metadata.json": (
            "link",
            ".current/data.csv-metadata.json",
        ),
        "make_a_lasting_power_of_attorney_service/data.json": ("link", ".current/data.json"),
        "make_a_lasting_power_of_attorney_service/notes.md": ("link", ".current/notes.md"),
        "make_a_lasting_power_of_attorney_service/report.html": ("link", ".current/report.html"),
        "make_a_lasting_power_of_attorney_service/revisions.csv": ("link", ".current/revisions.csv"),
        "use_a_lasting_power_of_attorney_25_05.json": (
            "link",
            "use_a_lasting_power_of_attorney_service/.current/use_a_lasting_power_of_attorney_25_05.json",
        ),
        "use_a_lasting_power_of_attorney_service": ("folder",),
        "use_a_lasting_power_of_attorney_service/.current": ("link", ".versions/<current>"),
        "use_a_lasting_power_of_attorney_service/.versions": ("folder",),
        "use_a_lasting_power_of_attorney_service/data.csv": ("link", ".current/data.csv"),
        "use_a_lasting_power_of_attorney_service/data.csv-metadata.json": (
            "link",
            ".current/data.csv-metadata.json",
        ),
        "use_a_lasting_power_of_attorney_service/data.json": ("link", ".current/data.json"),
        "use_a_lasting_power_of_attorney_service/notes.md": ("link", ".current/notes.md"),
        "use_a_lasting_power_of_attorney_service/report.html": ("link", ".current/report.html"),
        "use_a_lasting_power_of_attorney_service/revisions.csv": ("link", ".current/revisions.csv"),
    }
    objects = _objects(s3)
    assert sorted(objects) == [
        "make_a_lasting_power_of_attorney_25_05.json",
        "make_a_lasting_power_of_attorney_25_06.json",
        "make_a_lasting_power_of_attorney_service/data.csv",
        "make_a_lasting_power_of_attorney_service/data.csv-metadata.json",
        "make_a_lasting_power_of_attorney_service/data.json",
        "make_a_lasting_power_of_attorney_service/notes.md",
        "make_a_lasting_power_of_attorney_service/report.html",
        "make_a_lasting_power_of_attorney_service/revisions.csv",
        "use_a_lasting_power_of_attorney_25_05.json",
        "use_a_lasting_power_of_attorney_service/data.csv",
        "use_a_lasting_power_of_attorney_service/data.csv-metadata.json",
        "use_a_lasting_power_of_attorney_service/data.json",
        "use_a_lasting_power_of_attorney_service/notes.md",
        "use_a_lasting_power_of_attorney_service/report.html",
        "use_a_lasting_power_of_attorney_service/revisions.csv",
    ]
    for key, (content, _, metadata) in objects.items():
        assert (top / key).read_bytes() == content, f"the directory and the bucket differ at {key}"
        assert metadata == {"written-by": "perfplat"}, key
    use_records = json.loads((top / USE_FOLDER / "data.json").read_bytes())
    assert {(r["service"], r["dataType"], r["count"]) for r in use_records} == {
        ("use-an-lpa", data_type, value) for data_type, value in SATISFACTION.items()
    }
    # Make an LPA's June publication left Use an LPA's entries as they were (bytes, inodes, change times),
    # and never asked S3 for one of its objects.
    assert _theirs(_everything(top), USE) == use_entries
    assert _theirs(_objects(s3), USE) == use_objects
    assert not [path for _, path in hop.seen if "use_a_lasting_power_of_attorney" in path]


def test_each_published_name_is_located_where_a_reader_finds_it(top, stores, hop):
    """The metadata links of the publication asset and the CSV CKAN links to follow the layout."""
    directory = _directory(top, stores, USE)
    assert directory.directory() == top
    assert directory.location("data.csv") == top / USE_FOLDER
    assert directory.location("use_a_lasting_power_of_attorney_25_05.json") == top
    bucket = _bucket(hop, USE, prefix="drop/")
    assert bucket.key("data.csv") == "drop/use_a_lasting_power_of_attorney_service/data.csv"
    assert (
        bucket.key("use_a_lasting_power_of_attorney_25_05.json")
        == "drop/use_a_lasting_power_of_attorney_25_05.json"
    )
    assert (
        bucket.public_url("data.csv")
        == f"{hop.url}/{BUCKET}/drop/use_a_lasting_power_of_attorney_service/data.csv"
    )
    publisher = DataGovUkPublisher(
        service=USE.name,
        store=stores[USE.name],
        directory=directory,
        s3=bucket,
        ckan=CkanCatalogue(service=USE.name),
        public_base_url="https://performance.example.org/opg/",
    )
    assert publisher.hosted_csv_url() == (
        "https://performance.example.org/opg/use_a_lasting_power_of_attorney_service/data.csv"
    )
    without_base = publisher.model_copy(update={"public_base_url": None})
    assert without_base.hosted_csv_url() == bucket.public_url("data.csv")


@needs_jq
def test_the_month_files_at_the_top_merge_with_opgs_files_as_the_automation_does(top, stores, hop, tmp_path):
    """OPG's automation runs `jq -s flatten <stem>_service/data.json <stem>_YY_MM.json`: for each service,
    its month file at the top merges with its public file into exactly its new data.json."""
    for service in (MAKE, USE):
        _publish(top, stores, hop, service, MAY)
        shutil.copy(top / service.folder / "data.json", tmp_path / f"{service.name}-public.json")
    for service in (MAKE, USE):
        _publish(top, stores, hop, service, JUNE)
    for service in (MAKE, USE):
        merged = subprocess.run(
            [
                "jq",
                "-s",
                "flatten",
                str(tmp_path / f"{service.name}-public.json"),
                str(top / service.month_file_name(JUNE)),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        records = json.loads(merged.stdout)
        keys = [(r["_timestamp"], r["dataType"]) for r in records]
        assert len(keys) == len(set(keys)) == (2 if service == MAKE else 12), service
        published = json.loads((top / service.folder / "data.json").read_bytes())

        def order(r):
            return (r["_timestamp"], r["dataType"])

        assert sorted(records, key=order) == sorted(published, key=order), service


def test_an_undone_publication_leaves_both_services_layouts_exactly_as_they_were(top, stores, hop, s3):
    """S3 refuses Make an LPA's June month file (its last write): both targets go back, and the directory and
    the bucket hold, entry for entry and object for object, what they held."""
    _publish(top, stores, hop, MAKE, MAY)
    _publish(top, stores, hop, USE, MAY)
    entries, objects = _everything(top), _objects(s3)
    june_file = MAKE.month_file_name(JUNE)
    hop.rule = lambda method, path: S3_ACCESS_DENIED if method == "PUT" and path.endswith(june_file) else None

    with pytest.raises(PublicationFailed) as failed:
        _publish(top, stores, hop, MAKE, JUNE)

    message = str(failed.value)
    assert (
        "directory: restored to the previous publication; S3: restored to the previous publication" in message
    )
    assert "Nothing remains published" in message
    # Every entry as it was (Make an LPA's `.current` is a new link to the same version), June's version
    # gone; Use an LPA's not even touched.
    assert {k: v[:-2] for k, v in _everything(top).items()} == {k: v[:-2] for k, v in entries.items()}
    assert _theirs(_everything(top), USE) == _theirs(entries, USE)
    assert _objects(s3) == objects
    hop.heal()
    _publish(top, stores, hop, MAKE, JUNE)
    assert os.readlink(top / june_file) == f"{MAKE_FOLDER}/.current/{june_file}"


# --- S3: a month file someone else writes ------------------------------------------------------------------


def test_a_month_file_another_writer_put_in_the_bucket_is_refused_until_the_service_is_taken_over(
    top, stores, hop, s3
):
    """Their command writes Use an LPA's month file today: perfplat refuses to replace it, naming the object
    and the setting, until the deployment says perfplat has taken the service over."""
    key = "use_a_lasting_power_of_attorney_25_05.json"
    theirs = b'[{"written": "by their command"}]\n'
    s3.put_object(
        Bucket=BUCKET, Key=key, Body=theirs, ContentType="application/json", Metadata={"by": "them"}
    )
    refused_target = _bucket(hop, USE)
    with pytest.raises(PublicationFailed) as refused:
        publish(stores[USE.name], [refused_target], _request(USE, MAY), _Log())
    assert str(refused.value) == (
        f"S3 bucket {BUCKET}: s3://{BUCKET}/{key} was not written by perfplat (it has no written-by: "
        "perfplat metadata), so another writer still publishes Use an LPA there: once perfplat has taken Use "
        "an LPA over from it, set PERFPLAT_USE_AN_LPA_S3_TAKEN_OVER=true (or remove the object). Nothing was "
        "published"
    )
    assert _objects(s3) == {key: (theirs, "application/json", {"by": "them"})}

    publish(stores[USE.name], [_bucket(hop, USE, taken_over=True)], _request(USE, MAY), _Log())
    content, kind, metadata = _objects(s3)[key]
    assert json.loads(content)[0]["service"] == "use-an-lpa"
    assert (kind, metadata) == ("application/json", {"written-by": "perfplat"})


def test_an_undo_puts_back_the_other_writers_object_metadata_and_all(stores, hop, s3):
    """Taken over, May's month file (theirs) is replaced; June's, the last write, is refused: the undo puts
    theirs back as it was, with its content type and metadata, and removes what was new."""
    key = "use_a_lasting_power_of_attorney_25_05.json"
    theirs = b'[{"written": "by their command"}]\n'
    s3.put_object(
        Bucket=BUCKET, Key=key, Body=theirs, ContentType="application/octet-stream", Metadata={"by": "them"}
    )
    hop.rule = fault = S3WritesThenFails(7, "once")  # the six cumulative files and May's month file
    with pytest.raises(PublicationFailed) as failed:
        publish(stores[USE.name], [_bucket(hop, USE, taken_over=True)], _request(USE, MAY, JUNE), _Log())
    assert fault.failed and "writing use_a_lasting_power_of_attorney_25_06.json failed" in str(failed.value)
    assert "S3: restored to the previous publication" in str(failed.value)
    assert _objects(s3) == {key: (theirs, "application/octet-stream", {"by": "them"})}


def test_the_index_is_written_at_the_top_of_the_bucket_over_its_own_alone(stores, hop, s3):
    bucket = _bucket(hop, USE, prefix="drop")
    bucket.write_index(b"<html>index</html>\n")
    assert _objects(s3) == {
        "drop/report.html": (b"<html>index</html>\n", "text/html; charset=utf-8", {"written-by": "perfplat"})
    }
    s3.put_object(
        Bucket=BUCKET, Key="drop/report.html", Body=b"<html>theirs</html>\n", ContentType="text/html"
    )
    with pytest.raises(PublicationFailed) as refused:
        bucket.write_index(b"<html>index</html>\n")
    assert str(refused.value) == (
        f"S3 bucket {BUCKET}: s3://{BUCKET}/drop/report.html was not written by perfplat (it has no "
        "written-by: perfplat metadata), so the index is not written over it: remove it, or move it aside, "
        "if the index belongs there"
    )
    assert _objects(s3)["drop/report.html"][0] == b"<html>theirs</html>\n"
    # The single-service layout's report (unmarked, beside its unmarked data.json) is stale: replaced.
    s3.put_object(Bucket=BUCKET, Key="drop/data.json", Body=b"[]\n", ContentType="application/json")
    bucket.write_index(b"<html>index</html>\n")
    assert _objects(s3)["drop/report.html"] == (
        b"<html>index</html>\n",
        "text/html; charset=utf-8",
        {"written-by": "perfplat"},
    )


# --- the single-service layout, carried over ---------------------------------------------------------------

OLDER, NEWER = "20250601T070000-aaaaaaaa-111111", "20250701T070000-bbbbbbbb-222222"


def _single_service_files(tmp_path: Path, stores, hop) -> dict[str, dict[str, bytes]]:
    """Make an LPA's publications of April, then April and May, as the store holds them: made by today's
    code into a scratch directory (which is all they are taken from), by version."""
    scratch = tmp_path / "scratch"
    versions = {}
    for version, months in ((OLDER, (APRIL,)), (NEWER, (APRIL, MAY))):
        directory = _directory(scratch, stores, MAKE)
        publish(stores[MAKE.name], [directory], _request(MAKE, months[-1]), _Log())
        current = scratch / MAKE_FOLDER / ".current"
        versions[version] = {p.name: p.read_bytes() for p in current.iterdir()}
    assert sorted(versions[NEWER]) == sorted(
        [
            *CUMULATIVE,
            "make_a_lasting_power_of_attorney_25_04.json",
            "make_a_lasting_power_of_attorney_25_05.json",
        ]
    )
    return versions


def _flat_layout(top: Path, stores, versions: dict[str, dict[str, bytes]]) -> None:
    """The layout the perfplat that published Make an LPA alone left, made by hand as its code made it: the
    versions under `.versions` at the top, on record under the top's path; `.current` to the newer; every
    published name at the top a link through `.current`."""
    for version, files in versions.items():
        (top / ".versions" / version).mkdir(parents=True)
        for name, content in files.items():
            (top / ".versions" / version / name).write_bytes(content)
        digests = {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}
        record_directory_version(stores[MAKE.name], str(top), version, digests)
    os.symlink(f".versions/{NEWER}", top / ".current")
    for name in versions[NEWER]:
        os.symlink(f".current/{name}", top / name)


def test_the_single_service_layout_is_carried_over_byte_for_byte_and_said_once(
    top, stores, hop, s3, tmp_path
):
    versions = _single_service_files(tmp_path, stores, hop)
    _flat_layout(top, stores, versions)
    for name, content in versions[NEWER].items():  # the bucket as that perfplat left it: flat, unmarked
        kind = "application/json" if name.endswith(".json") else "text/plain"
        s3.put_object(Bucket=BUCKET, Key=name, Body=content, ContentType=kind)
    flat_tree, flat_objects = _everything(top), _objects(s3)

    # Any other service is refused until Make an LPA has carried it over; nothing is touched.
    with pytest.raises(PublicationFailed) as refused:
        _publish(top, stores, hop, USE, MAY)
    assert str(refused.value) == (
        f"publication directory {top}: .versions belongs to the single-service layout Make an LPA's "
        "perfplat left, which Make an LPA's next publication carries over into "
        "make_a_lasting_power_of_attorney_service/: publish Make an LPA first (or, if .versions is not "
        "perfplat's, remove it). Use an LPA publishes nothing beside it until then. Nothing was published"
    )
    assert _everything(top) == flat_tree and _objects(s3) == flat_objects

    # Make an LPA's first read carries it over (a dry run writes no publication, but the layout moves).
    directory, bucket = _publish(top, stores, hop, MAKE, JUNE, dry_run=True)
    assert directory.carried_over == (
        "PERFPLAT_PUBLISH_DIR: carried Make an LPA's single-service layout over into "
        "make_a_lasting_power_of_attorney_service/: moved .versions and .current into it; moved the links "
        "data.json, data.csv, data.csv-metadata.json, revisions.csv, notes.md, report.html into it; "
        "repointed make_a_lasting_power_of_attorney_25_04.json, make_a_lasting_power_of_attorney_25_05.json "
        "at the top through its .current. No file was rewritten"
    )
    assert _tree(top) == {
        "make_a_lasting_power_of_attorney_25_04.json": (
            "link",
            "make_a_lasting_power_of_attorney_service/.current/make_a_lasting_power_of_attorney_25_04.json",
        ),
        "make_a_lasting_power_of_attorney_25_05.json": (
            "link",
            "make_a_lasting_power_of_attorney_service/.current/make_a_lasting_power_of_attorney_25_05.json",
        ),
        "make_a_lasting_power_of_attorney_service": ("folder",),
        "make_a_lasting_power_of_attorney_service/.current": ("link", ".versions/<current>"),
        "make_a_lasting_power_of_attorney_service/.versions": ("folder",),
        **{
            f"make_a_lasting_power_of_attorney_service/{name}": ("link", f".current/{name}")
            for name in CUMULATIVE
        },
    }
    assert os.readlink(top / MAKE_FOLDER / ".current") == f".versions/{NEWER}"
    # Every file of every version, the same bytes in the same inode: moved, not rewritten.
    for version, files in versions.items():
        for name, content in files.items():
            before = flat_tree[f".versions/{version}/{name}"]
            after = top / MAKE_FOLDER / ".versions" / version / name
            assert after.read_bytes() == content == before[1]
            assert after.stat().st_ino == before[2], f"{version}/{name} was rewritten"
    for name, content in versions[NEWER].items():
        assert (top / (name if name.startswith("make_") else f"{MAKE_FOLDER}/{name}")).read_bytes() == content
    recorded = directory_versions_of(stores[MAKE.name], str(top / MAKE_FOLDER))
    assert sorted(recorded) == [OLDER, NEWER]
    assert directory_versions_of(stores[MAKE.name], str(top)) == {}
    assert _objects(s3) == flat_objects  # the dry run left the bucket alone

    # The publication: S3's flat cumulative objects go once the folder holds their successors; the month
    # files stay where they are, as they were.
    directory, bucket = _publish(top, stores, hop, MAKE, JUNE)
    assert directory.carried_over is None  # said once, by the read that did it
    assert bucket.carried_over == (
        f"S3 bucket {BUCKET}: carried Make an LPA's single-service layout over into "
        "make_a_lasting_power_of_attorney_service/: removed the flat objects data.json, data.csv, "
        "data.csv-metadata.json, revisions.csv, notes.md, report.html, whose successors are there now; the "
        "month files stay where they were"
    )
    objects = _objects(s3)
    assert sorted(objects) == sorted(
        [
            "make_a_lasting_power_of_attorney_25_04.json",
            "make_a_lasting_power_of_attorney_25_05.json",
            "make_a_lasting_power_of_attorney_25_06.json",
            *(f"make_a_lasting_power_of_attorney_service/{name}" for name in CUMULATIVE),
        ]
    )
    for name in (
        "make_a_lasting_power_of_attorney_25_04.json",
        "make_a_lasting_power_of_attorney_25_05.json",
    ):
        assert objects[name] == flat_objects[name]
        assert (top / name).read_bytes() == versions[NEWER][name]
    assert sorted(p.name for p in (top / MAKE_FOLDER / ".versions").iterdir()) == sorted(
        [NEWER, os.readlink(top / MAKE_FOLDER / ".current").removeprefix(".versions/")]
    )

    directory, bucket = _publish(top, stores, hop, MAKE, JULY)
    assert directory.carried_over is None and bucket.carried_over is None
    # Use an LPA may publish beside it now.
    _publish(top, stores, hop, USE, MAY)
    assert os.readlink(top / "use_a_lasting_power_of_attorney_25_05.json") == (
        "use_a_lasting_power_of_attorney_service/.current/use_a_lasting_power_of_attorney_25_05.json"
    )


def test_plain_files_from_before_versioning_are_carried_over_as_the_folders_first_version(
    top, stores, hop, tmp_path
):
    versions = _single_service_files(tmp_path, stores, hop)
    top.mkdir()
    for name, content in versions[NEWER].items():
        (top / name).write_bytes(content)

    directory, _ = _publish(top, stores, hop, MAKE, JUNE, dry_run=True)

    found = re.fullmatch(
        r"PERFPLAT_PUBLISH_DIR: carried Make an LPA's single-service layout over into "
        r"make_a_lasting_power_of_attorney_service/: took the plain files data\.json, data\.csv, "
        r"data\.csv-metadata\.json, revisions\.csv, notes\.md, make_a_lasting_power_of_attorney_25_04\.json, "
        r"make_a_lasting_power_of_attorney_25_05\.json, report\.html into it as its version "
        r"(?P<version>adopted-\d{8}T\d{6}-[0-9a-f]{6})\. No file was rewritten",
        directory.carried_over or "",
    )
    assert found, directory.carried_over
    assert os.readlink(top / MAKE_FOLDER / ".current") == f".versions/{found['version']}"
    assert sorted(p.name for p in top.iterdir()) == [
        "make_a_lasting_power_of_attorney_25_04.json",
        "make_a_lasting_power_of_attorney_25_05.json",
        MAKE_FOLDER,
    ]
    for name, content in versions[NEWER].items():
        assert (top / (name if name.startswith("make_") else f"{MAKE_FOLDER}/{name}")).read_bytes() == content
    _publish(top, stores, hop, MAKE, JUNE)
    assert (top / "make_a_lasting_power_of_attorney_25_05.json").read_bytes() == versions[NEWER][
        "make_a_lasting_power_of_attorney_25_05.json"
    ]


def test_the_index_is_written_at_the_top_once_the_single_service_report_has_moved(top, stores, hop, tmp_path):
    """The single-service layout's report.html link at the top is Make an LPA's to carry over: another
    service's target refuses to write the index over it; Make an LPA's carries the layout over, then
    writes."""
    _flat_layout(top, stores, _single_service_files(tmp_path, stores, hop))
    with pytest.raises(PublicationFailed) as refused:
        _directory(top, stores, USE).write_index(b"<html>index</html>\n")
    assert "report.html belongs to the single-service layout Make an LPA's perfplat left" in str(
        refused.value
    )
    assert os.readlink(top / "report.html") == ".current/report.html"

    make = _directory(top, stores, MAKE)
    make.write_index(b"<html>index</html>\n")
    assert make.carried_over is not None and "moved .versions and .current into it" in make.carried_over
    assert (top / "report.html").read_bytes() == b"<html>index</html>\n" and not (
        top / "report.html"
    ).is_symlink()
    assert os.readlink(top / MAKE_FOLDER / "report.html") == ".current/report.html"
    # The index perfplat wrote is its own to replace, whichever service's target writes it (the index's
    # digest is on record in the one store every service shares in production: Make an LPA's here); the
    # services' publications leave it alone.
    _publish(top, stores, hop, MAKE, JUNE)
    PublicationDirectory(path=str(top), store=stores[MAKE.name], service=USE.name).write_index(
        b"<html>index 2</html>\n"
    )
    assert (top / "report.html").read_bytes() == b"<html>index 2</html>\n"
