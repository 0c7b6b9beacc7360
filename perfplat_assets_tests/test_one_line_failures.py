"""One failure, one clear message: a run that fails for a reason perfplat knows says it once, without a
traceback, however it was started; Ctrl-C says what it left published; a month that is not published is
refused in one line before anything starts."""

from __future__ import annotations

import re
import signal
import subprocess

from dagster import DagsterInstance, DagsterRunStatus, Definitions, Failure, asset
from dagster._core.instance.ref import InstanceRef

from perfplat_assets import cli
from perfplat_assets.common.months import last_closed_month
from perfplat_assets.console import perfplat_console
from perfplat_assets_tests.support.services import BIN, ROOT, dagster_environment, poll

MONTH = last_closed_month()


def _reason(directory) -> str:
    return (
        f"PERFPLAT_PUBLISH_DIR: {directory} is a regular file, not a directory. Nothing was asked of any "
        "source; nothing was published."
    )


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def test_dg_launch_says_perfplats_reason_once_just_before_dagsters_closing_line(tmp_path):
    not_a_directory = tmp_path / "publish"
    not_a_directory.write_text("")
    env = dagster_environment(tmp_path, PERFPLAT_PUBLISH_DIR=str(not_a_directory))
    launched = _run([str(BIN / "dg"), "launch", "--assets", "*", "--partition", MONTH.key], env)
    said = launched.stdout + launched.stderr
    assert launched.returncode != 0
    assert said.count(_reason(not_a_directory)) == 1, said[-4000:]
    assert "Stack Trace" not in said and "Traceback" not in said
    lines = [line for line in said.splitlines() if line.strip()]
    assert lines[-1] == "Error: Materialization failed."
    # Said with the run's failure, written after the steps' output is no longer captured for their logs.
    assert "RUN_FAILURE" in lines[-2] and lines[-2].endswith(f"]. {_reason(not_a_directory)}")


def test_perfplat_materialize_and_the_demo_end_on_the_reason_alone(tmp_path):
    not_a_directory = tmp_path / "publish"
    not_a_directory.write_text("")
    env = dagster_environment(tmp_path, PERFPLAT_PUBLISH_DIR=str(not_a_directory), PYTHONWARNINGS="ignore")
    materialized = _run([str(BIN / "perfplat"), "materialize", str(MONTH)], env)
    assert materialized.returncode == 1
    assert materialized.stdout == ""
    assert materialized.stderr.splitlines() == [f"perfplat materialize: {_reason(not_a_directory)}"]

    demo = _run([str(BIN / "perfplat-demo"), "--months", "1"], env)
    assert demo.returncode == 1
    assert demo.stdout.splitlines() == [f"materialising {MONTH} to {MONTH} in one run ..."]
    assert demo.stderr.splitlines() == [f"perfplat-demo: {_reason(not_a_directory)}"]


def test_a_month_that_is_not_a_partition_is_one_line_naming_the_newest_and_the_first(capsys):
    bounds = f"the newest closed month is {MONTH} ({MONTH.key}) and the first is 2021-03 (2021-03-01)"
    unclosed = MONTH.next()
    assert cli.main(["materialize", unclosed.key]) == 2
    assert (
        capsys.readouterr().err
        == f"perfplat materialize: {unclosed} has not closed, so it is not published yet: {bounds}\n"
    )
    assert cli.main(["materialize", "2021-02"]) == 2
    assert (
        capsys.readouterr().err
        == f"perfplat materialize: 2021-02 is before any service's series begins: {bounds}\n"
    )
    assert cli.main(["materialize", "2026-05-15"]) == 2
    assert capsys.readouterr().err == (
        f"perfplat materialize: '2026-05-15' is not a month (YYYY-MM or YYYY-MM-01): {bounds}\n"
    )


def test_perfplat_says_its_version(capsys):
    try:
        cli.main(["--version"])
    except SystemExit as done:
        assert done.code == 0
    assert capsys.readouterr().out == "perfplat 0.1.0\n"


def test_ctrl_c_during_a_run_says_what_was_published_and_exits_130(tmp_path):
    env = dagster_environment(tmp_path, PYTHONWARNINGS="ignore")
    running = subprocess.Popen(
        [str(BIN / "perfplat"), "materialize", "2021-03", "--to", str(MONTH)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    instance = DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"]))
    try:
        poll(
            "the run to start",
            lambda: any(run.status == DagsterRunStatus.STARTED for run in instance.get_runs()),
            120,
        )
        running.send_signal(signal.SIGINT)
        out, err = running.communicate(timeout=120)
    finally:
        running.kill()
        instance.dispose()
    assert running.returncode == 130
    [line] = err.splitlines()  # one line, whatever the run had reached
    assert re.fullmatch(
        r"interrupted; (nothing was published|published .+)\. A publication under way is completed or undone "
        r"by the next run",
        line,
    ), err[-3000:]
    assert out == ""


def test_a_failure_perfplat_does_not_know_keeps_dagsters_traceback(capfd):
    @asset
    def broken() -> None:
        raise ZeroDivisionError("a bug")

    @asset
    def refused() -> None:
        raise Failure("PERFPLAT_X: a reason perfplat knows.")

    job = Definitions(
        assets=[broken, refused], loggers={"console": perfplat_console}
    ).resolve_implicit_global_asset_job_def()
    job.execute_in_process(
        run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    said = capfd.readouterr().err
    assert said.count("PERFPLAT_X: a reason perfplat knows.") == 1
    assert "ZeroDivisionError: a bug" in said and "Stack Trace" in said
