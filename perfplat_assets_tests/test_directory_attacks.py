"""The publication directory cannot be turned against perfplat by whoever else can write there.

Each test plants something in a real directory, publishes with resources built here (a `PublicationDirectory`
over a real Postgres metrics store), and checks three things: the refusal names the entry (from the top of the
directory: `<folder>/.versions/...` for the service's folder, the name alone at the top) and says what to
remove, "Nothing was published", and nothing outside the directory changed (a tree planted beside it is
compared before and after, bytes, links and all). Where the single-service layout kept `.versions` and
`.current` at the top, the same attacks are made there too: its carry-over checks before it moves anything.
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
FOLDER = MAKE_AN_LPA.folder  # make_a_lasting_power_of_attorney_service


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


def _folder(tmp_path: Path) -> Path:
    return tmp_path / "publish" / FOLDER


def _current_version(folder: Path) -> str:
    return os.readlink(folder / ".current").removeprefix(".versions/")


# Where `.versions` and `.current` are: the service's folder, or the top, where the single-service layout
# kept them (and a link planted there is refused before the carry-over moves anything).
WHERE = {"folder": f"{FOLDER}/", "top": ""}


def _planted_in(tmp_path: Path, where: str) -> Path:
    place = tmp_path / "publish" / WHERE[where]
    place.mkdir(parents=True)
    return place


@pytest.mark.parametrize("where", WHERE)
def test_a_versions_link_to_an_outside_folder_is_refused_and_the_folder_kept(tmp_path, store, outside, where):
    directory = _directory(tmp_path, store)
    os.symlink(outside, _planted_in(tmp_path, where) / ".versions")
    before = _snapshot(outside)
    message = _refused(directory, store)
    entry = f"{WHERE[where]}.versions"
    assert f"{entry} is a symbolic link to '{outside}'" in message and f"remove {entry}" in message
    assert _snapshot(outside) == before
    assert not os.path.lexists(_folder(tmp_path) / ".current")
    assert not os.path.lexists(tmp_path / "publish" / ".current")


@pytest.mark.parametrize("where", WHERE)
def test_a_current_link_to_an_outside_folder_is_refused_and_nothing_of_it_published(
    tmp_path, store, outside, where
):
    directory = _directory(tmp_path, store)
    place = _planted_in(tmp_path, where)
    os.symlink(outside, place / ".current")
    before = _snapshot(outside)
    message = _refused(directory, store)
    entry = f"{WHERE[where]}.current"
    assert f"{entry} links to '{outside}', outside .versions" in message
    assert f"remove {entry}" in message
    assert _snapshot(outside) == before
    assert sorted(p.name for p in place.iterdir()) == [".current"]
    assert sorted(p.name for p in (tmp_path / "publish").iterdir()) == [
        WHERE[where].rstrip("/") or ".current"
    ]


def test_a_current_link_climbing_out_of_versions_is_refused(tmp_path, store, outside):
    directory = _directory(tmp_path, store)
    _publish(directory, store, MAY)
    folder = _folder(tmp_path)
    (folder / ".current").unlink()
    os.symlink("../../outside", folder / ".current")
    before = _snapshot(outside)
    message = _refused(directory, store)
    assert f"{FOLDER}/.current links to '../../outside', outside .versions" in message
    assert _snapshot(outside) == before


def test_a_link_at_the_service_folder_is_refused_and_never_followed(tmp_path, store, outside):
    """perfplat makes the folder itself: a link there (to a folder outside) is not gone through."""
    directory = _directory(tmp_path, store)
    publish_dir = tmp_path / "publish"
    publish_dir.mkdir()
    os.symlink(outside / "folder", publish_dir / FOLDER)
    before = _snapshot(outside)
    message = _refused(directory, store)
    assert f"{FOLDER} is a symbolic link to '{outside / 'folder'}'" in message
    assert f"remove {FOLDER}" in message
    assert _snapshot(outside) == before
    assert sorted(p.name for p in publish_dir.iterdir()) == [FOLDER]


def test_a_file_at_the_service_folder_is_refused(tmp_path, store):
    directory = _directory(tmp_path, store)
    publish_dir = tmp_path / "publish"
    publish_dir.mkdir()
    (publish_dir / FOLDER).write_text("not a folder\n")
    message = _refused(directory, store)
    assert f"{FOLDER} is a regular file where perfplat keeps Make an LPA's folder" in message
    assert (publish_dir / FOLDER).read_text() == "not a folder\n"


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
    """A cumulative name in the service's folder, a month file at the top: where each is published."""
    directory = _directory(tmp_path, store)
    _publish(directory, store, MAY)
    place = directory.location(name)
    entry = str((place / name).relative_to(tmp_path / "publish"))
    assert entry == (name if name.startswith(MAKE_AN_LPA.stem + "_2") else f"{FOLDER}/{name}")
    (place / name).unlink(missing_ok=True)
    os.symlink(outside / "data.json", place / name)
    before = _snapshot(outside)
    message = _refused(directory, store)
    assert f"{entry} is a symbolic link to '{outside / 'data.json'}', which perfplat did not make" in message
    assert f"remove {entry}" in message
    assert _snapshot(outside) == before


def test_a_folder_at_a_published_name_is_refused(tmp_path, store, outside):
    directory = _directory(tmp_path, store)
    _publish(directory, store, MAY)
    folder = _folder(tmp_path)
    (folder / "notes.md").unlink()
    (folder / "notes.md").mkdir()
    message = _refused(directory, store)
    assert f"{FOLDER}/notes.md is a directory where perfplat publishes its file" in message


def test_a_plain_file_at_a_month_file_is_refused_once_the_service_has_a_publication(tmp_path, store):
    """A month file at the top holding other bytes than the published one is someone else's, not a file
    from before versioning to adopt: the service's folder has a publication already."""
    directory = _directory(tmp_path, store)
    _publish(directory, store, MAY)
    month_file = tmp_path / "publish" / MAKE_AN_LPA.month_file_name(MAY)
    month_file.unlink()
    month_file.write_text("[]\n")
    message = _refused(directory, store)
    assert f"{month_file.name} is a regular file where perfplat publishes its file" in message
    assert f"remove {month_file.name}" in message
    assert month_file.read_text() == "[]\n"


def test_a_link_planted_at_the_current_version_is_refused(tmp_path, store, outside):
    directory = _directory(tmp_path, store)
    _publish(directory, store, MAY)
    folder = _folder(tmp_path)
    version = _current_version(folder)
    os.rename(folder / ".versions" / version, tmp_path / "moved-away")
    os.symlink(outside, folder / ".versions" / version)
    before = _snapshot(outside)
    message = _refused(directory, store)
    assert f"{FOLDER}/.versions/{version} is a symbolic link to '{outside}'" in message
    assert _snapshot(outside) == before


def test_a_link_planted_at_a_version_due_for_pruning_is_refused_and_never_followed(tmp_path, store, outside):
    """Three publications keep two versions; the oldest, swapped for a link outside, is not deleted
    through it: the fourth publication is refused before anything is written."""
    directory = _directory(tmp_path, store)
    folder = _folder(tmp_path)
    _publish(directory, store, MAY)
    oldest = _current_version(folder)
    _publish(directory, store, JUNE)
    (folder / ".versions" / oldest).rename(tmp_path / "oldest-moved")
    os.symlink(outside / "folder", folder / ".versions" / oldest)
    before = _snapshot(outside)
    message = _refused(directory, store, JULY)
    assert f"{FOLDER}/.versions/{oldest} is a symbolic link to '{outside / 'folder'}'" in message
    assert _snapshot(outside) == before


def test_a_hard_link_planted_inside_a_version_is_refused_by_name(tmp_path, store, outside):
    directory = _directory(tmp_path, store)
    _publish(directory, store, MAY)
    folder = _folder(tmp_path)
    version = folder / ".versions" / _current_version(folder)
    os.link(outside / "secret.txt", version / "secret.txt")
    before = _snapshot(outside)
    message = _refused(directory, store)
    assert (
        f"{FOLDER}/.versions/{version.name}/secret.txt is not a file perfplat published in that version"
        in message
    )
    assert _snapshot(outside) == before
    assert not (folder / "secret.txt").exists() and not (tmp_path / "publish" / "secret.txt").exists()


def test_a_published_file_swapped_for_a_hard_link_is_refused_by_its_digest(tmp_path, store, outside):
    directory = _directory(tmp_path, store)
    _publish(directory, store, MAY)
    folder = _folder(tmp_path)
    version = folder / ".versions" / _current_version(folder)
    (version / "notes.md").unlink()
    os.link(outside / "secret.txt", version / "notes.md")
    message = _refused(directory, store)
    assert f"{FOLDER}/.versions/{version.name}/notes.md does not hold what perfplat wrote there" in message
    assert (outside / "secret.txt").read_text() == "not for publication\n"


def test_versions_are_recorded_and_pruned_from_the_record_only(tmp_path, store, outside):
    """After three publications two versions remain, both on record; a folder perfplat has no record of is
    never touched."""
    directory = _directory(tmp_path, store)
    publish_dir = tmp_path / "publish"
    folder = _folder(tmp_path)
    _publish(directory, store, MAY)
    (folder / ".versions" / "someone-elses").mkdir()
    (folder / ".versions" / "someone-elses" / "theirs.txt").write_text("theirs\n")
    _publish(directory, store, JUNE)
    _publish(directory, store, JULY)
    versions = sorted(p.name for p in (folder / ".versions").iterdir())
    assert len(versions) == 3 and "someone-elses" in versions
    assert (folder / ".versions" / "someone-elses" / "theirs.txt").read_text() == "theirs\n"
    # what a reader sees: every month at the top, through links perfplat made
    for month in (MAY, JUNE, JULY):
        assert (
            os.readlink(publish_dir / MAKE_AN_LPA.month_file_name(month))
            == f"{FOLDER}/.current/{MAKE_AN_LPA.month_file_name(month)}"
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
        == f"{FOLDER}/.current/{MAKE_AN_LPA.month_file_name(MAY)}"
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
            s3=S3Resource(endpoint_url=hop.url, region_name=REGION, **LOCAL_CREDENTIALS),
            bucket=BUCKET,
            service=MAKE_AN_LPA.name,
        )


def test_a_first_publication_undone_says_there_was_none_before(tmp_path, store, failing_s3):
    """The undo may not claim a previous publication that never existed; and it leaves nothing behind: the
    version it wrote and the folder it made go too."""
    directory = _directory(tmp_path, store)
    with pytest.raises(PublicationFailed) as failed:
        publish(store, [directory, failing_s3], _request(MAY), _Log())
    message = str(failed.value)
    assert "directory: holds no publication, as before" in message, message
    assert "restored to the previous publication" not in message
    assert list((tmp_path / "publish").iterdir()) == []


def test_an_undo_after_an_earlier_publication_says_it_is_restored(tmp_path, store, failing_s3):
    directory = _directory(tmp_path, store)
    _publish(directory, store, MAY)
    publish_dir = tmp_path / "publish"
    before = _snapshot(publish_dir)
    with pytest.raises(PublicationFailed) as failed:
        publish(store, [directory, failing_s3], _request(JUNE), _Log())
    assert "directory: restored to the previous publication" in str(failed.value)
    assert _snapshot(publish_dir) == before  # June's version went too: as it was, entry for entry
    assert not os.path.lexists(publish_dir / MAKE_AN_LPA.month_file_name(JUNE))


def test_the_refusal_names_the_entry_without_a_traceback_for_an_unreadable_listing(tmp_path, store):
    """An entry that is a special file (a FIFO) where a version's file belongs is refused by name, and
    reading it never blocks."""
    directory = _directory(tmp_path, store)
    _publish(directory, store, MAY)
    folder = _folder(tmp_path)
    version = folder / ".versions" / _current_version(folder)
    (version / "notes.md").unlink()
    os.mkfifo(version / "notes.md")
    message = _refused(directory, store)
    assert re.search(r"notes\.md is a special file \(a pipe, socket or device\)", message), message


def test_a_temporary_link_left_by_a_killed_run_is_removed_and_nothing_else_of_its_name(
    tmp_path, store, outside
):
    """A run killed between making a temporary link and renaming it into place leaves the link; the next
    publication removes it: in the folder, at the top (a month file's), and at the top where the
    single-service layout made them. An entry of the same name that is not such a link is not perfplat's to
    remove, nor is another service's."""
    directory = _directory(tmp_path, store)
    _publish(directory, store, MAY)
    publish_dir, folder = tmp_path / "publish", _folder(tmp_path)
    month = MAKE_AN_LPA.month_file_name(MAY)
    os.symlink(".current/data.json", folder / ".data.json.a1b2c3.tmp")
    os.symlink(".versions/20250101T000000-abcdef12-a1b2c3", folder / ".current.d4e5f6.tmp")
    os.symlink(f"{FOLDER}/.current/{month}", publish_dir / f".{month}.a1b2c3.tmp")
    os.symlink(f".current/{month}", publish_dir / f".{month}.d4e5f6.tmp")  # the single-service layout's
    os.symlink(outside / "secret.txt", folder / ".notes.md.abcdef.tmp")
    (folder / ".report.html.123456.tmp").write_text("someone else's\n")
    theirs = "use_a_lasting_power_of_attorney_25_05.json"
    os.symlink(
        f"use_a_lasting_power_of_attorney_service/.current/{theirs}", publish_dir / f".{theirs}.abcdef.tmp"
    )
    before = _snapshot(outside)
    _publish(directory, store, JUNE)
    assert not os.path.lexists(folder / ".data.json.a1b2c3.tmp")
    assert not os.path.lexists(folder / ".current.d4e5f6.tmp")
    assert not os.path.lexists(publish_dir / f".{month}.a1b2c3.tmp")
    assert not os.path.lexists(publish_dir / f".{month}.d4e5f6.tmp")
    assert os.readlink(folder / ".notes.md.abcdef.tmp") == str(outside / "secret.txt")
    assert (folder / ".report.html.123456.tmp").read_text() == "someone else's\n"
    assert os.path.lexists(publish_dir / f".{theirs}.abcdef.tmp")
    assert _snapshot(outside) == before


# The index, report.html at the top


def test_the_index_is_written_and_rewritten_only_over_its_own(tmp_path, store):
    """perfplat knows the index it wrote by the digest it recorded: the index is replaced whole, and a
    `report.html` someone else put there is refused and kept."""
    directory = _directory(tmp_path, store)
    index = tmp_path / "publish" / "report.html"
    directory.write_index(b"<html>first</html>\n")
    directory.write_index(b"<html>second</html>\n")
    assert index.read_bytes() == b"<html>second</html>\n"
    assert sorted(p.name for p in index.parent.iterdir()) == ["report.html"]  # no temporary file left
    index.unlink()
    index.write_bytes(b"<html>an operator's</html>\n")
    with pytest.raises(PublicationFailed) as refused:
        directory.write_index(b"<html>third</html>\n")
    assert str(refused.value) == (
        f"publication directory {index.parent}: report.html is a regular file perfplat did not write (its "
        "digest is not the index's on record), so it is not perfplat's: remove report.html"
    )
    assert index.read_bytes() == b"<html>an operator's</html>\n"


@pytest.mark.parametrize("planted", ["link", "hard link", "folder"])
def test_the_index_is_never_written_through_what_is_planted_there(tmp_path, store, outside, planted):
    directory = _directory(tmp_path, store)
    directory.write_index(b"<html>first</html>\n")
    index = tmp_path / "publish" / "report.html"
    index.unlink()
    if planted == "link":
        os.symlink(outside / "secret.txt", index)
    elif planted == "hard link":
        os.link(outside / "secret.txt", index)
    else:
        index.mkdir()
    before = _snapshot(outside)
    with pytest.raises(PublicationFailed) as refused:
        directory.write_index(b"<html>second</html>\n")
    problem = {
        "link": f"is a symbolic link to '{outside / 'secret.txt'}'",
        "hard link": "has 2 names (a hard link)",
        "folder": "is a directory",
    }[planted]
    assert f"report.html {problem}" in str(refused.value)
    assert str(refused.value).endswith("remove report.html")
    assert _snapshot(outside) == before
