"""PERFPLAT_PUBLISH_DIR as a run meets it: checked at the start of every run that publishes, before any
source is asked, and refused with the setting and the access it needs.

The runs are the real CLI (`dagster asset materialize`) over a real Postgres metrics store. The tests run as
root, which no permission bit stops, so a run that must meet a directory it cannot read is started through
`setpriv` without the two capabilities that let root past permissions (CAP_DAC_OVERRIDE and
CAP_DAC_READ_SEARCH): the kernel then refuses it as it would refuse any other user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from perfplat_assets.common.months import Month
from perfplat_assets_tests.support.run_results import failure_message, materialize_month
from perfplat_assets_tests.support.services import (
    DAGSTER,
    MATERIALIZE_EVERY_ASSET,
    ROOT,
    dagster_environment,
)

NO_PERMISSION_BYPASS = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]
RUN = [*MATERIALIZE_EVERY_ASSET, "--partition", "2025-05-01"]
MAY_2025 = Month.of(2025, 5)


def _materialize(env: dict[str, str], *, without_root_bypass: bool = False) -> subprocess.CompletedProcess:
    """The month through the CLI, as an engineer runs it."""
    prefix = NO_PERMISSION_BYPASS if without_root_bypass else []
    return subprocess.run(
        [*prefix, DAGSTER, *RUN],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _stored_months(url: str, table: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            exists = connection.execute(text("SELECT to_regclass(:t)"), {"t": table}).scalar()
            return connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar() if exists else 0
    finally:
        engine.dispose()


def test_a_publish_dir_that_is_a_file_fails_the_run_before_any_source_is_asked(tmp_path, postgres_url):
    not_a_directory = tmp_path / "publish"
    not_a_directory.write_text("a file where the directory should be\n")
    env = dagster_environment(
        tmp_path, PERFPLAT_PUBLISH_DIR=str(not_a_directory), PERFPLAT_METRICS_DB_URL=postgres_url
    )
    result = _materialize(env)  # every measure's step checks
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f"PERFPLAT_PUBLISH_DIR: {not_a_directory} is a regular file, not a directory" in output
    assert "Nothing was asked of any source; nothing was published" in output
    for measure in ("user_satisfaction", "digital_take_up", "completion_rate", "uptime"):
        assert _stored_months(postgres_url, f"make_an_lpa__{measure}") == 0, measure
    assert not_a_directory.read_text() == "a file where the directory should be\n"


def test_a_run_that_does_not_publish_is_not_stopped_by_the_directory(tmp_path, postgres_url):
    not_a_directory = tmp_path / "publish"
    not_a_directory.write_text("x\n")
    env = dagster_environment(
        tmp_path, PERFPLAT_PUBLISH_DIR=str(not_a_directory), PERFPLAT_METRICS_DB_URL=postgres_url
    )
    args = [DAGSTER, *RUN]
    args[args.index("*")] = "make_an_lpa/uptime"
    result = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert _stored_months(postgres_url, "make_an_lpa__uptime") == 1


@pytest.fixture
def shared_work() -> Path:
    """A folder every user may enter (pytest's own are root's alone), removed afterwards."""
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="perfplat-permissions-"))
    work.chmod(0o755)
    yield work
    for path in [work, *work.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(work)


def test_an_unreadable_publish_dir_is_named_with_the_access_it_needs(shared_work, postgres_url):
    publish = shared_work / "publish"
    publish.mkdir()
    publish.chmod(0o000)
    env = dagster_environment(
        shared_work, PERFPLAT_PUBLISH_DIR=str(publish), PERFPLAT_METRICS_DB_URL=postgres_url
    )
    result = _materialize(env, without_root_bypass=True)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f"PERFPLAT_PUBLISH_DIR: perfplat cannot write in {publish}" in output, output[-3000:]
    assert "it needs read, write and search (rwx) access there" in output
    assert "nothing was published" in output
    assert "PermissionError" not in output
    assert _stored_months(postgres_url, "make_an_lpa__user_satisfaction") == 0


PUBLISH_IN_ONE_PROCESS = """
import sys
from perfplat_assets.common.months import Month
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.publication.targets.directory import PublicationDirectory
from perfplat_assets.store_schema import STORED_TABLES  # every service's tables, for the store to make
from perfplat_assets.publication.committing.publish import PublicationRequest, publish
from perfplat_assets.publication.committing.target import PublicationFailed
from perfplat_assets.services.make_an_lpa.service import MAKE_AN_LPA

class Log:
    def info(self, message): pass
    def warning(self, message): pass

store = MetricsStore(url=sys.argv[2])
month = Month.parse("2025-06")
request = PublicationRequest(MAKE_AN_LPA, [month], {(month, "uptime-percent"): 99.5}, "run", None, month)
try:
    directory = PublicationDirectory(path=sys.argv[1], store=store, service=MAKE_AN_LPA.name)
    publish(store, [directory], request, Log())
except PublicationFailed as error:
    print(error)
    sys.exit(1)
"""


def test_an_unreadable_entry_inside_the_directory_is_a_clear_refusal(shared_work, postgres_url):
    """Past the run's start (the directory itself is writable), a folder perfplat cannot read inside it: the
    versions in the service's folder."""
    publish = shared_work / "publish"
    (publish / "make_a_lasting_power_of_attorney_service" / ".versions").mkdir(parents=True)
    (publish / "make_a_lasting_power_of_attorney_service" / ".versions").chmod(0o000)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [*NO_PERMISSION_BYPASS, sys.executable, "-c", PUBLISH_IN_ONE_PROCESS, str(publish), postgres_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr[-3000:]
    message = result.stdout.strip()
    assert message.startswith(f"PERFPLAT_PUBLISH_DIR ({publish}): reading what it holds was refused"), message
    assert "perfplat needs read, write and search (rwx) access" in message
    assert message.endswith("Nothing was published")
    assert "Traceback" not in result.stderr


FOLDER = "make_a_lasting_power_of_attorney_service"


@pytest.mark.parametrize("planted", [".versions", ".current", f"{FOLDER}/.versions", f"{FOLDER}/.current"])
def test_a_run_meets_a_planted_link_with_a_refusal_and_leaves_the_outside_alone(
    tmp_path, perfplat_env, postgres_url, planted, monkeypatch
):
    """The cases as they were first seen: a `.versions` or `.current` link to a folder outside, which a
    run wrote through (and pruned) or published from; in the service's folder, and at the top, where the
    single-service layout kept them."""
    outside = tmp_path / "outside"
    (outside / "kept").mkdir(parents=True)
    (outside / "secret.txt").write_text("not for publication\n")
    (outside / "kept" / "file").write_text("mine\n")
    publish = tmp_path / "publish"
    (publish / planted).parent.mkdir(parents=True)
    os.symlink(outside, publish / planted)
    before = {str(p.relative_to(outside)): p.read_bytes() for p in outside.rglob("*") if p.is_file()}
    monkeypatch.setenv("PERFPLAT_PUBLISH_DIR", str(publish))
    monkeypatch.setenv("PERFPLAT_METRICS_DB_URL", postgres_url)
    result = materialize_month(MAY_2025)  # in this process: the CLI's own output is test_one_line_failures'
    assert not result.success
    said = failure_message(result)
    assert f"remove {planted}" in said and "Nothing was published" in said, said[-3000:]
    after = {str(p.relative_to(outside)): p.read_bytes() for p in outside.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(str(p.relative_to(publish)) for p in publish.rglob("*")) == sorted(
        {planted, FOLDER} if "/" in planted else {planted}
    )
