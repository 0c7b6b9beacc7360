"""End to end, as the original's README told people to test it: the local stack and the processes `make
dev` runs (a Dagster webserver and daemon), `queuecli ... send`, then the month's run and its file."""

import json
import os
import subprocess

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._core.instance.ref import InstanceRef

from perfplat_assets_tests.support.services import (
    BIN,
    ROOT,
    answers,
    dagster_dev_pid,
    free_port,
    poll,
    stop_with_ctrl_c,
)
from perfplat_sample.local_stack import group_alive


def test_queuecli_send_materialises_the_month_through_make_dev(tmp_path):
    aws_port, ui_port = free_port(), free_port()
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PERFPLAT_", "AWS_"))}
    env |= {
        "DAGSTER_HOME": str(home),
        "PERFPLAT_DATA_DIR": str(tmp_path / "data"),
        "PERFPLAT_SQS_SENSOR_INTERVAL_SECONDS": "2",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    log = tmp_path / "stack.log"
    with log.open("wb") as output:
        stack = subprocess.Popen(
            [
                BIN / "perfplat-localstack",
                "--with-dagster",
                "--port",
                str(aws_port),
                "--dagster-port",
                str(ui_port),
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    dagster_pid = None
    try:
        dagster_pid = dagster_dev_pid(log)
        poll("the webserver", lambda: answers(f"http://127.0.0.1:{ui_port}/server_info"), 120, [log])

        endpoint = f"http://127.0.0.1:{aws_port}"
        sent = subprocess.run(
            [
                BIN / "queuecli",
                "perfplat-queue.fifo",
                "send",
                "--payload",
                '{"month": 1, "year": 2024}',
                "--endpoint-url",
                endpoint,
            ],
            env={k: v for k, v in env.items() if not k.startswith("DAGSTER")},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert sent.returncode == 0, sent.stderr

        instance = DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))

        def succeeded() -> bool:
            runs = instance.get_run_records(RunsFilter(tags={"dagster/partition": "2024-01-01"}))
            failed = [r for r in runs if r.dagster_run.status == DagsterRunStatus.FAILURE]
            assert not failed, f"the run failed:\n{log.read_text()[-4000:]}"
            return any(r.dagster_run.status == DagsterRunStatus.SUCCESS for r in runs)

        poll("a successful run for 2024-01-01", succeeded, 240, [log])
        published = tmp_path / "data" / "publish" / "make_a_lasting_power_of_attorney_24_01.json"
        assert {r["_timestamp"] for r in json.loads(published.read_text(encoding="utf-8"))} == {
            "2024-01-01T00:00:00+00:00"
        }

        def acknowledged() -> bool:
            checked = subprocess.run(
                [BIN / "queuecli", "perfplat-queue.fifo", "check", "--endpoint-url", endpoint],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            return "visible messages:   0" in checked.stdout and "in-flight messages: 0" in checked.stdout

        poll("the message to be acknowledged", acknowledged, 120, [log])
    finally:
        stop_with_ctrl_c(stack, log, dagster_pid, "the stack")
    assert "local stack stopped" in log.read_text()
    assert dagster_pid and not group_alive(dagster_pid), "dagster dev's processes outlived the stack"
