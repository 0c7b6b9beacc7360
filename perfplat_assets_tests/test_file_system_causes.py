"""A file system's refusal said as its cause: an immutable directory (which refuses root too), a read-only
file system and a full one are named as such, at the run's start and while the directory is written, never
as "permission denied". Made real: `chattr +i`, and tmpfs mounts made read-only or filled."""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from perfplat_assets.common.errors import clause, file_system_cause
from perfplat_assets.common.months import Month
from perfplat_assets.common.run_start import directory_problem
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.publication.committing.publish import PublicationRequest, publish
from perfplat_assets.publication.committing.target import PublicationFailed
from perfplat_assets.publication.targets.directory import PublicationDirectory
from perfplat_assets.services.make_an_lpa.service import MAKE_AN_LPA
from perfplat_assets.store_schema import STORED_TABLES  # noqa: F401  (every table, for the store to make)
from perfplat_assets_tests.support.ci import unavailable

MAY, JUNE = Month.parse("2025-05"), Month.parse("2025-06")


@pytest.mark.parametrize(
    "number, cause",
    [
        (errno.EACCES, "permission denied"),
        (
            errno.EPERM,
            "the operation is not permitted, whatever the permissions: an entry there is immutable or "
            "append-only (lsattr shows it), or another user's in a directory with the sticky bit",
        ),
        (errno.EROFS, "the file system is read-only"),
        (errno.ENOSPC, "the file system is full (no space left on device)"),
        (errno.EDQUOT, "the disk quota of the user perfplat runs as is used up"),
        (errno.ENOENT, "No such file or directory"),
    ],
)
def test_each_refusal_of_a_file_system_is_said_as_its_cause(number, cause):
    assert file_system_cause(OSError(number, "the system's words")) == (
        "the system's words" if number == errno.ENOENT else cause
    )


def test_a_message_that_ends_a_sentence_is_followed_by_one_full_stop():
    assert f"{clause('Have an administrator grant it.')}. Nothing was published" == (
        "Have an administrator grant it. Nothing was published"
    )
    assert clause("no full stop") == "no full stop"


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), capture_output=True, text=True, check=False)


@pytest.fixture
def made_immutable() -> Iterator[list[Path]]:
    """Paths the test makes immutable (`chattr +i`), made changeable again afterwards."""
    made: list[Path] = []
    yield made
    for path in reversed(made):
        _run("chattr", "-i", str(path))


def _immutable(path: Path, made: list[Path]) -> None:
    done = _run("chattr", "+i", str(path))
    if done.returncode != 0:
        unavailable(
            f"chattr +i needs root with CAP_LINUX_IMMUTABLE on a file system with attributes: {done.stderr}"
        )
    made.append(path)


@pytest.fixture
def mount(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of 64 KiB of its own, to make read-only or fill."""
    where = tmp_path / "mount"
    where.mkdir()
    done = _run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where))
    if done.returncode != 0:
        unavailable(f"mounting a tmpfs needs root (or CAP_SYS_ADMIN): {done.stderr.strip()}")
    try:
        yield where
    finally:
        _run("umount", "-l", str(where))


def _fill(where: Path) -> None:
    with open(where / ".filler", "wb", buffering=0) as file:
        try:
            while True:
                file.write(b"\0" * 4096)
        except OSError as error:
            assert error.errno == errno.ENOSPC


# At the run's start: what `RunStart` checks before any source is asked


def test_an_immutable_directory_is_said_to_be_immutable_to_root_too(tmp_path, made_immutable):
    publish = tmp_path / "publish"
    publish.mkdir()
    _immutable(publish, made_immutable)
    lift = f"which lets no user change it, root included; lift it with `chattr -i {publish}`"
    assert directory_problem(publish) == (
        f"perfplat cannot write in {publish}: it is immutable (chattr +i), {lift}"
    )
    assert directory_problem(publish / "new") == (
        f"perfplat cannot create {publish / 'new'} in {publish}: it is immutable (chattr +i), {lift}"
    )


def test_a_read_only_file_system_is_said_to_be_read_only(mount):
    assert _run("mount", "-o", "remount,ro", str(mount)).returncode == 0
    assert directory_problem(mount) == (
        f"perfplat cannot write in {mount}: it is on a read-only file system; remount that read-write, or "
        "publish elsewhere"
    )


def test_a_full_file_system_is_said_to_be_full(mount):
    assert directory_problem(mount) is None
    _fill(mount)
    assert directory_problem(mount) == (
        f"perfplat cannot write in {mount}: its file system is full (no space left on device)"
    )


# While the directory is written: past the run's start, inside the directory


class _Log:
    def info(self, message: str) -> None:
        pass

    def warning(self, message: str) -> None:
        pass


def _publish(directory: Path, postgres_url: str, month: Month) -> None:
    store = MetricsStore(url=postgres_url)
    target = PublicationDirectory(path=str(directory), store=store, service=MAKE_AN_LPA.name)
    request = PublicationRequest(MAKE_AN_LPA, [month], {(month, "uptime-percent"): 99.5}, "run", None, JUNE)
    publish(store, [target], request, _Log())


def test_an_immutable_folder_inside_the_directory_is_named_when_writing_fails(
    tmp_path, postgres_url, made_immutable
):
    """The directory passes the run's start; the service's folder in it, empty, is immutable."""
    publish = tmp_path / "publish"
    folder = publish / MAKE_AN_LPA.folder
    folder.mkdir(parents=True)
    _immutable(folder, made_immutable)
    with pytest.raises(PublicationFailed) as failed:
        _publish(publish, postgres_url, MAY)
    assert (
        f"failed at directory: PERFPLAT_PUBLISH_DIR ({publish}): writing the new version was refused: "
        f"{folder} is immutable (chattr +i), which lets no user change it, root included; lift it with "
        f"`chattr -i {folder}`. directory: unchanged"
    ) in str(failed.value)


def test_a_full_file_system_is_named_when_writing_fails(mount, postgres_url):
    _fill(mount)
    with pytest.raises(PublicationFailed) as failed:
        _publish(mount, postgres_url, MAY)
    assert (
        f"failed at directory: PERFPLAT_PUBLISH_DIR ({mount}): writing the new version failed: the file "
        "system is full (no space left on device). directory: unchanged"
    ) in str(failed.value)
