"""The publication directory cannot be turned against perfplat by whoever else can write there.

Each test plants something in a real directory, publishes with resources built here (a `PublicationDirectory`
over a real Postgres metrics store), and checks three things: the refusal names the entry and says what to
remove, "Nothing was published", and nothing outside the directory changed (a tree planted beside it is
compared before and after, bytes, links and all).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster_aws.s3 import S3Resource

from perfplat_assets.common.months import Month
from perfplat_assets.common.sqs import LOCAL_CREDENTIALS
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.publication.committing.publish import PublicationRequest, publish
from perfplat_assets.publication.committing.target import PublicationFailed
from perfplat_assets.publication.targets.directory import PublicationDirectory
from perfplat_assets.publication.targets.s3 import S3Publication
from perfplat_assets.services.make_an_lpa.service import MAKE_AN_LPA
from perfplat_assets_tests.support.aws import BUCKET, REGION
from perfplat_assets_tests.support.faults import FaultyHop, S3WritesThenFails

MAY, JUNE, JULY = Month.parse("2025-05"), Month.parse("2025-06"), Month.parse("2025-07")


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append(message)

    def warning(self, message: str) -> None:
        self.lines.append(message)


def _request(month: Month, uptime: float = 99.5) -> PublicationRequest:
    return PublicationRequest(
        service=MAKE_AN_LPA,
        months=[month],
        values={(month, "uptime-percent"): uptime},
        run_id=f"run-{month.key}-{uptime}",
        csv_url=None,
        last_closed=JULY,
    )


@pytest.fixture
def store(postgres_url: str) -> MetricsStore:
    """The metrics store on a fresh Postgres database of the test's own."""
    return MetricsStore(url=postgres_url)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A tree beside the publication directory that perfplat must never touch: files, a folder, a link."""
    root = tmp_path / "outside"
    (root / "folder").mkdir(parents=True)
    (root / "secret.txt").write_text("not for publication\n")
    (root / "folder" / "keep.json").write_text('{"keep": true}\n')
    (root / "data.json").write_text("[]\n")
    os.symlink("secret.txt", root / "link-to-secret")
    return root


def _snapshot(root: Path) -> dict[str, object]:
    """Every entry under `root`, as what it is: bytes, a link's target, or a folder."""
    found: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            found[key] = ("link", os.readlink(path))
        elif path.is_dir():
            found[key] = ("folder",)
        else:
            found[key] = ("file", path.read_bytes())
    return found


def _directory(tmp_path: Path, store: MetricsStore) -> PublicationDirectory:
    return PublicationDirectory(path=str(tmp_path / "publish"), store=store, service=MAKE_AN_LPA.name)


def _publish(directory: PublicationDirectory, store: MetricsStore, month: Month, uptime: float = 99.5):
    return publish(store, [directory], _request(month, uptime), _Log())


def _refused(directory: PublicationDirectory, store: MetricsStore, month: Month = JUNE) -> str:
    with pytest.raises(PublicationFailed) as refused:
        _publish(directory, store, month)
    message = str(refused.value)
    assert message.endswith("Nothing was published"), message
    assert "Traceback" not in message
    return message


def _current_version(publish_dir: Path) -> str:
    return os.readlink(publish_dir / ".current").removeprefix(".versions/")


def test_a_versions_link_to_an_outside_folder_is_refused_and_the_folder_kept(tmp_path, store, outside):
    directory = _directory(tmp_path, store)
    publish_dir = tmp_path / "publish"
    publish_dir.mkdir()
    os.symlink(outside, publish_dir / ".versions")
    before = _snapshot(outside)
    message = _refused(directory, store)
    assert ".versions is a symbolic link to" in message and "remove .versions" in message
    assert _snapshot(outside) == before
    assert not (publish_dir / ".current").exists()


def test_a_current_link_to_an_outside_folder_is_refused_and_nothing_of_it_published(tmp_path, store, outside):
    directory = _directory(tmp_path, store)
    publish_dir = tmp_path / "publish"
    publish_dir.mkdir()
    os.symlink(outside, publish_dir / ".current")
    before = _snapshot(outside)
    message = _refused(directory, store)
    assert f".current links to '{outside}', outside .versions" in message
    assert "remove .current" in message
    assert _snapshot(outside) == before
    assert sorted(p.name for p in publish_dir.iterdir()) == [".current"]


def test_a_current_link_climbing_out_of_versions_is_refused(tmp_path, store, outside):
    directory = _directory(tmp_path, store)
    _publish(directory, store, MAY)
    publish_dir = tmp_path / "publish"
    (publish_dir / ".current").unlink()
    os.symlink("../outside", publish_dir / ".current")
    before = _snapshot(outside)
    message = _refused(directory, store)
    assert ".current links to '../outside', outside .versions" in message
    assert _snapshot(outside) == before


@pytest.mark.parametrize(
    "name",
    [
        "data.json",
        "data.csv",
        "data.csv-metadata.json",
        "revisions.csv",
        "notes.md",
        "report.html",
        MAKE_AN_LPA.month_file_name(JUNE),
        MAKE_AN_LPA.month_file_name(MAY),
    ],
)
def test_a_link_planted_at_a_published_name_is_refused_and_its_target_kept(tmp_path, store, outside, name):
    directory = _directory(tmp_path, store)
    _publish(directory, store, MAY)
    publish_dir = tmp_path / "publish"
    (publish_dir / name).unlink(missing_ok=True)
    os.symlink(outside / "data.json", publish_dir / name)
    before = _snapshot(outside)
    message = _refused(directory, store)
    assert f"{name} is a symbolic link to '{outside / 'data.json'}', which perfplat did not make" in message
    assert f"remove {name}" in message
    assert _snapshot(outside) == before


def test_a_folder_at_a_published_name_is_refused(tmp_path, store, outside):
    directory = _directory(tmp_path, store)
    _publish(directory, store, MAY)
    publish_dir = tmp_path / "publish"
    (publish_dir / "notes.md").unlink()
    (publish_dir / "notes.md").mkdir()
    message = _refused(directory, store)
    assert "notes.md is a directory where perfplat publishes its file" in message


def test_a_link_planted_at_the_current_version_is_refused(tmp_path, store, outside):
    directory = _directory(tmp_path, store)
    _publish(directory, store, MAY)
    publish_dir = tmp_path / "publish"
    version = _current_version(publish_dir)
    os.rename(publish_dir / ".versions" / version, tmp_path / "moved-away")
    os.symlink(outside, publish_dir / ".versions" / version)
    before = _snapshot(outside)
    message = _refused(directory, store)
    assert f".versions/{version} is a symbolic link to '{outside}'" in message
    assert _snapshot(outside) == before


def test_a_link_planted_at_a_version_due_for_pruning_is_refused_and_never_followed(tmp_path, store, outside):
    """Three publications keep two versions; the oldest, swapped for a link outside, is not deleted
    through it: the fourth publication is refused before anything is written."""
    directory = _directory(tmp_path, store)
    publish_dir = tmp_path / "publish"
    _publish(directory, store, MAY)
    oldest = _current_version(publish_dir)
    _publish(directory, store, JUNE)
    (publish_dir / ".versions" / oldest).rename(tmp_path / "oldest-moved")
    os.symlink(outside / "folder", publish_dir / ".versions" / oldest)
    before = _snapshot(outside)
    message = _refused(directory, store, JULY)
    assert f".versions/{oldest} is a symbolic link to '{outside / 'folder'}'" in message
    assert _snapshot(outside) == before


def test_a_hard_link_planted_inside_a_version_is_refused_by_name(tmp_path, store, outside):
    directory = _directory(tmp_path, store)
    _publish(directory, store, MAY)
    publish_dir = tmp_path / "publish"
    version = publish_dir / ".versions" / _current_version(publish_dir)
    os.link(outside / "secret.txt", version / "secret.txt")
    before = _snapshot(outside)
    message = _refused(directory, store)
    assert f".versions/{version.name}/secret.txt is not a file perfplat published in that version" in message
    assert _snapshot(outside) == before
    assert not (publish_dir / "secret.txt").exists()


def test_a_published_file_swapped_for_a_hard_link_is_refused_by_its_digest(tmp_path, store, outside):
    directory = _directory(tmp_path, store)
    _publish(directory, store, MAY)
    publish_dir = tmp_path / "publish"
    version = publish_dir / ".versions" / _current_version(publish_dir)
    (version / "notes.md").unlink()
    os.link(outside / "secret.txt", version / "notes.md")
    message = _refused(directory, store)
    assert f".versions/{version.name}/notes.md does not hold what perfplat wrote there" in message
    assert (outside / "secret.txt").read_text() == "not for publication\n"


def test_versions_are_recorded_and_pruned_from_the_record_only(tmp_path, store, outside):
    """After three publications two versions remain, both on record; a folder perfplat has no record of is
    never touched."""
    directory = _directory(tmp_path, store)
    publish_dir = tmp_path / "publish"
    _publish(directory, store, MAY)
    (publish_dir / ".versions" / "someone-elses").mkdir()
    (publish_dir / ".versions" / "someone-elses" / "theirs.txt").write_text("theirs\n")
    _publish(directory, store, JUNE)
    _publish(directory, store, JULY)
    versions = sorted(p.name for p in (publish_dir / ".versions").iterdir())
    assert len(versions) == 3 and "someone-elses" in versions
    assert (publish_dir / ".versions" / "someone-elses" / "theirs.txt").read_text() == "theirs\n"
    # what a reader sees: every month, through links perfplat made
    for month in (MAY, JUNE, JULY):
        assert (
            os.readlink(publish_dir / MAKE_AN_LPA.month_file_name(month))
            == f".current/{MAKE_AN_LPA.month_file_name(month)}"
        )
        assert '"uptime-percent"' in (publish_dir / MAKE_AN_LPA.month_file_name(month)).read_text()


def test_plain_files_from_before_versioning_are_adopted_but_a_hard_link_is_not(tmp_path, store, outside):
    publish_dir = tmp_path / "publish"
    publish_dir.mkdir()
    (publish_dir / MAKE_AN_LPA.month_file_name(MAY)).write_text("[]\n")
    os.link(outside / "data.json", publish_dir / "notes.md")
    directory = _directory(tmp_path, store)
    message = _refused(directory, store)
    assert "notes.md has 2 names (a hard link)" in message
    (publish_dir / "notes.md").unlink()
    _publish(directory, store, JUNE)
    assert (publish_dir / MAKE_AN_LPA.month_file_name(MAY)).read_text() == "[]\n"  # adopted as it was
    assert (
        os.readlink(publish_dir / MAKE_AN_LPA.month_file_name(MAY))
        == f".current/{MAKE_AN_LPA.month_file_name(MAY)}"
    )


@pytest.fixture
def failing_s3(aws_endpoint: str) -> Iterator[S3Publication]:
    """S3 on moto's server behind a hop that refuses the first object write: the directory has been
    applied by then, so the publication is undone."""
    import boto3

    boto3.client("s3", endpoint_url=aws_endpoint, region_name=REGION).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    with FaultyHop(aws_endpoint) as hop:
        hop.rule = S3WritesThenFails(0, "once")
        yield S3Publication(
            s3=S3Resource(endpoint_url=hop.url, region_name=REGION, **LOCAL_CREDENTIALS), bucket=BUCKET
        )


def test_a_first_publication_undone_says_there_was_none_before(tmp_path, store, failing_s3):
    """The undo may not claim a previous publication that never existed."""
    directory = _directory(tmp_path, store)
    with pytest.raises(PublicationFailed) as failed:
        publish(store, [directory, failing_s3], _request(MAY), _Log())
    message = str(failed.value)
    assert "directory: holds no publication, as before" in message, message
    assert "restored to the previous publication" not in message
    publish_dir = tmp_path / "publish"
    assert not os.path.lexists(publish_dir / ".current")
    assert not os.path.lexists(publish_dir / "data.json")


def test_an_undo_after_an_earlier_publication_says_it_is_restored(tmp_path, store, failing_s3):
    directory = _directory(tmp_path, store)
    _publish(directory, store, MAY)
    publish_dir = tmp_path / "publish"
    before = _current_version(publish_dir)
    with pytest.raises(PublicationFailed) as failed:
        publish(store, [directory, failing_s3], _request(JUNE), _Log())
    assert "directory: restored to the previous publication" in str(failed.value)
    assert _current_version(publish_dir) == before
    assert not os.path.lexists(publish_dir / MAKE_AN_LPA.month_file_name(JUNE))


def test_the_refusal_names_the_entry_without_a_traceback_for_an_unreadable_listing(tmp_path, store):
    """An entry that is a special file (a FIFO) where a version's file belongs is refused by name, and
    reading it never blocks."""
    directory = _directory(tmp_path, store)
    _publish(directory, store, MAY)
    publish_dir = tmp_path / "publish"
    version = publish_dir / ".versions" / _current_version(publish_dir)
    (version / "notes.md").unlink()
    os.mkfifo(version / "notes.md")
    message = _refused(directory, store)
    assert re.search(r"notes\.md is a special file \(a pipe, socket or device\)", message), message


def test_a_temporary_link_left_by_a_killed_run_is_removed_and_nothing_else_of_its_name(
    tmp_path, store, outside
):
    """A run killed between making a temporary link and renaming it into place leaves the link; the next
    publication removes it. An entry of the same name that is not such a link is not perfplat's to remove."""
    directory = _directory(tmp_path, store)
    _publish(directory, store, MAY)
    publish_dir = tmp_path / "publish"
    os.symlink(".current/data.json", publish_dir / ".data.json.a1b2c3.tmp")
    os.symlink(".versions/20250101T000000-abcdef12-a1b2c3", publish_dir / ".current.d4e5f6.tmp")
    os.symlink(outside / "secret.txt", publish_dir / ".notes.md.abcdef.tmp")
    (publish_dir / ".report.html.123456.tmp").write_text("someone else's\n")
    before = _snapshot(outside)
    _publish(directory, store, JUNE)
    assert not os.path.lexists(publish_dir / ".data.json.a1b2c3.tmp")
    assert not os.path.lexists(publish_dir / ".current.d4e5f6.tmp")
    assert os.readlink(publish_dir / ".notes.md.abcdef.tmp") == str(outside / "secret.txt")
    assert (publish_dir / ".report.html.123456.tmp").read_text() == "someone else's\n"
    assert _snapshot(outside) == before
