"""The production deployment: the project's dagster.yaml on real Postgres, the real daemon and webserver from
workspace.yaml, the schedules, and what can be checked of the image and docker-compose without Docker."""

import json
import os
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance, DagsterRunStatus, Definitions, build_schedule_context
from dagster._config import validate_config
from dagster._core.instance.ref import InstanceRef
from dagster._utils.schedules import cron_string_iterator
from dagster_aws.ecs import EcsRunLauncher
from dagster_aws.s3.compute_log_manager import S3ComputeLogManager
from sqlalchemy import create_engine, text

from perfplat_assets.common.months import LONDON
from perfplat_assets.configuration import build_resources, monthly_cron
from perfplat_assets.definitions import assets, defs
from perfplat_assets_tests.support.services import (
    DAGSTER,
    ROOT,
    dagster_services,
    free_port,
    poll,
    stop_group,
)
from perfplat_assets_tests.test_production_without_sample import (
    EVERY_SOURCE,
    SAMPLE_ONLY,
    deployment_environment,
)


def test_the_project_instance_stores_runs_in_postgres(production_home, postgres_url):
    instance = DagsterInstance.from_ref(InstanceRef.from_dir(str(production_home)))
    config = instance.get_concurrency_config().run_queue_config
    assert config.max_concurrent_runs == 4
    assert [(limit["key"], limit["value"], limit["limit"]) for limit in config.tag_concurrency_limits] == [
        ("perfplat/ga4", "true", 3)
    ]
    assert instance.run_monitoring_enabled
    assert instance.get_concurrency_config().pool_config.default_pool_limit == 3

    job = Definitions(assets=assets, resources=build_resources()).resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(instance=instance, partition_key="2025-05-01")
    assert result.success
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT status FROM runs WHERE run_id = :id"), {"id": result.run_id})
        assert stored.scalar() == "SUCCESS"
        events = connection.execute(
            text("SELECT count(*) FROM event_logs WHERE run_id = :id"), {"id": result.run_id}
        ).scalar()
        assert events > 20
    engine.dispose()
    instance.dispose()


def test_daemon_and_webserver_run_a_queued_month(production_home, tmp_path):
    with dagster_services(tmp_path, ready_seconds=120) as services:
        nodes = services.graphql("{ assetNodes { assetKey { path } } }")["assetNodes"]
        assert {node["assetKey"]["path"][-1] for node in nodes} == {
            "user_satisfaction",
            "digital_take_up",
            "completion_rate",
            "uptime",
            "performance_dataset",
            "data_gov_uk_publication",
        }
        launched = services.graphql(
            """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
                 __typename ... on LaunchRunSuccess { run { runId status } }
                 ... on PythonError { message } ... on InvalidSubsetError { message } } }""",
            {
                "params": {
                    "selector": {
                        "repositoryLocationName": "perfplat",
                        "repositoryName": "__repository__",
                        "jobName": "monthly_figures",
                    },
                    "executionMetadata": {"tags": [{"key": "dagster/partition", "value": "2025-05-01"}]},
                }
            },
        )["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        assert launched["run"]["status"] == "QUEUED"  # through the queued run coordinator

        instance = DagsterInstance.get()
        done = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
        services.poll("the queued run to finish", lambda: instance.get_run_by_id(run_id).status in done, 240)
        run = instance.get_run_by_id(run_id)
        assert run.status == DagsterRunStatus.SUCCESS
        assert run.tags["perfplat/ga4"] == "true"
        publish = Path(os.environ["PERFPLAT_DATA_DIR"]) / "publish"
        assert (publish / "make_a_lasting_power_of_attorney_25_05.json").exists()
        instance.dispose()


def _evaluate(name: str, when: datetime) -> list:
    repository = defs.get_repository_def()
    context = build_schedule_context(scheduled_execution_time=when, repository_def=repository)
    return repository.get_schedule_def(name).evaluate_tick(context).run_requests


def _first_tick_on(name: str, day: datetime) -> datetime:
    """When the schedule first fires on `day` (midnight London onwards), as an aware UTC datetime."""
    schedule = defs.get_repository_def().get_schedule_def(name)
    ticks = cron_string_iterator(day.timestamp(), schedule.cron_schedule, schedule.execution_timezone)
    return next(ticks).astimezone(UTC)


def _selected(schedule_name: str) -> set[str]:
    repository = defs.get_repository_def()
    job = repository.get_job(repository.get_schedule_def(schedule_name).job_name)
    return {key.to_user_string() for key in job.asset_layer.executable_asset_keys}


def test_the_monthly_schedule_publishes_the_closed_month_before_opgs_automation_copies_it():
    schedule = defs.get_repository_def().get_schedule_def("monthly")
    assert schedule.default_status.value == "RUNNING"
    for day in (datetime(2026, 12, 1, tzinfo=LONDON), datetime(2026, 7, 1, tzinfo=LONDON)):  # GMT and BST
        tick = _first_tick_on("monthly", day)
        assert tick.date() == day.date() and tick.hour < 12, f"{tick} is not before 12:00 UTC on the 1st"
    [request] = _evaluate("monthly", _first_tick_on("monthly", datetime(2026, 12, 1, tzinfo=LONDON)))
    assert request.partition_key == "2026-11-01"
    monthly = _selected("monthly")
    assert "make_an_lpa/data_gov_uk_publication" in monthly and "make_an_lpa/uptime" in monthly
    [january] = _evaluate("monthly", datetime(2026, 1, 1, 7, 0, tzinfo=LONDON))
    assert january.partition_key == "2025-12-01"


def test_the_settled_run_collects_ga4_again_for_the_same_month_on_the_4th():
    tick = _first_tick_on("settled", datetime(2026, 12, 4, tzinfo=LONDON))
    assert tick.date().day == 4
    [request] = _evaluate("settled", tick)
    assert request.partition_key == "2026-11-01"
    assert _selected("settled") == {
        "make_an_lpa/completion_rate",
        "make_an_lpa/performance_dataset",
        "make_an_lpa/data_gov_uk_publication",
    }
    [monthly] = _evaluate("monthly", _first_tick_on("monthly", datetime(2026, 12, 1, tzinfo=LONDON)))
    assert request.run_key != monthly.run_key, "the settled run is not taken for the monthly one"


def test_the_monthly_schedule_time_is_configurable_and_checked_when_the_location_loads(monkeypatch):
    monkeypatch.setenv("PERFPLAT_MONTHLY_CRON", "30 5 1 * *")
    assert monthly_cron() == "30 5 1 * *"
    monkeypatch.setenv("PERFPLAT_MONTHLY_CRON", "at seven")
    with pytest.raises(ValueError, match="PERFPLAT_MONTHLY_CRON must be a cron expression"):
        monthly_cron()


def test_the_revisions_schedule_recollects_take_up_for_the_three_months_before():
    schedule = defs.get_repository_def().get_schedule_def("revisions")
    assert schedule.cron_schedule.endswith(" 4 * *") and schedule.execution_timezone == "Europe/London"
    assert schedule.default_status.value == "RUNNING"
    requests_may = _evaluate("revisions", datetime(2026, 5, 4, 9, 0, tzinfo=LONDON))
    assert [r.partition_key for r in requests_may] == ["2026-01-01", "2026-02-01", "2026-03-01"]
    job = defs.get_repository_def().get_job(schedule.job_name)
    assert {key.to_user_string() for key in job.asset_layer.executable_asset_keys} == {
        "make_an_lpa/digital_take_up",
        "make_an_lpa/performance_dataset",
        "make_an_lpa/data_gov_uk_publication",
    }
    requests_june = _evaluate("revisions", datetime(2026, 6, 4, 9, 0, tzinfo=LONDON))
    assert [r.partition_key for r in requests_june] == ["2026-02-01", "2026-03-01", "2026-04-01"]
    # The same month revised on a later tick is a new run, not a duplicate run key.
    assert not {r.run_key for r in requests_may} & {r.run_key for r in requests_june}


# The image, without Docker


def _dockerfile_command() -> list[str]:
    line = next(line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD "))
    return json.loads(line[len("CMD ") :])


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory) -> Path:
    """A fresh virtual environment holding what the Dockerfile's image holds: perfplat's wheel, built as the
    Dockerfile builds it, and its dependencies at the versions constraints.txt pins. uv installs them (the
    tests' own installer, in a tenth of pip's time); the pins, not the installer, decide what is installed."""
    root = tmp_path_factory.mktemp("image")
    wheels, venv = root / "wheels", root / "venv"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", wheels, ROOT],
        check=True,
    )
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    wheel = next(wheels.glob("perfplat-*.whl"))
    uv = Path(sys.executable).parent / "uv"
    install = [uv, "pip", "install", "--quiet", "--python", venv / "bin" / "python", "--compile-bytecode"]
    subprocess.run([*install, "--constraint", ROOT / "constraints.txt", wheel], check=True)
    return venv


def test_the_image_command_serves_the_code_location(image_venv, tmp_path):
    command = _dockerfile_command()
    assert command[:3] == ["dagster", "code-server", "start"]
    port = free_port()
    command[command.index("-p") + 1] = str(port)
    command[command.index("-h") + 1] = "127.0.0.1"
    env = deployment_environment(tmp_path, EVERY_SOURCE)  # the image has no sample: every source is set
    log = tmp_path / "code-server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [image_venv / "bin" / command[0], *command[1:]],
            cwd=tmp_path,  # not the checkout: the installed package must be enough
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def healthy() -> bool:
            check = subprocess.run(
                [image_venv / "bin" / "dagster", "api", "grpc-health-check", "-p", str(port)],
                capture_output=True,
                env=env,
                timeout=60,
                check=False,
            )
            return check.returncode == 0

        poll("the code server's gRPC health check", healthy, 120, [log], [server])
    finally:
        stop_group(server)


def test_the_image_carries_no_sample_and_an_unset_source_is_named_at_load(image_venv, tmp_path):
    python = image_venv / "bin" / "python"
    found = subprocess.run(
        [
            python,
            "-c",
            f"import importlib.util as u; print([m for m in {list(SAMPLE_ONLY)!r} if u.find_spec(m)])",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == "[]"
    for script in ("perfplat-demo", "perfplat-localstack"):
        assert not (image_venv / "bin" / script).exists()
    unset = {k: v for k, v in EVERY_SOURCE.items() if k != "PERFPLAT_SIRIUS_DB_URL"}
    load = subprocess.run(
        [python, "-c", "import perfplat_assets.definitions"],
        env=deployment_environment(tmp_path, unset),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert load.returncode != 0
    last = load.stderr.strip().splitlines()[-1]
    assert "set PERFPLAT_SIRIUS_DB_URL" in last and "pip install -e ./sample" in last, last


def test_docker_compose_parses_and_every_command_exists(image_venv):
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "aws", "code", "webserver", "daemon"} <= set(services)
    ours = {name: s for name, s in services.items() if s.get("image") == "perfplat-demo:latest"}
    assert set(ours) >= {"code", "webserver", "daemon", "queues"}
    # compose builds the demo target: the production image and the sample's commands.
    assert compose["x-perfplat"]["build"] == {"context": ".", "target": "demo"}
    assert "FROM runtime AS demo" in (ROOT / "Dockerfile").read_text()
    sample_scripts = tomllib.loads((ROOT / "sample" / "pyproject.toml").read_text())["project"]["scripts"]
    for name, service in ours.items():
        command = service.get("command") or _dockerfile_command()
        in_image = (image_venv / "bin" / command[0]).exists() or command[0] in sample_scripts
        assert in_image, f"{name}: {command[0]} is not in the image"
        assert service["environment"]["DAGSTER_PG_HOST"] == "postgres"
    assert services["code"]["command"] == _dockerfile_command()
    workspace = yaml.safe_load((ROOT / "deploy" / "compose" / "workspace.yaml").read_text())
    [location] = workspace["load_from"]
    assert location["grpc_server"] == {"host": "code", "port": 4000, "location_name": "perfplat"}
    for name in ("webserver", "daemon"):
        assert "/opt/dagster/compose/workspace.yaml" in services[name]["command"]


def test_workspace_uses_one_location_name():
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    [location] = workspace["load_from"]
    assert location["python_module"]["location_name"] == "perfplat"
    assert location["python_module"]["module_name"] == "perfplat_assets.definitions"


def test_the_ecs_instance_configuration_is_valid():
    config = yaml.safe_load((ROOT / "deploy" / "ecs" / "dagster.yaml").read_text())
    assert config["run_launcher"]["class"] == "EcsRunLauncher"
    assert validate_config(EcsRunLauncher.config_type(), config["run_launcher"]["config"]).success
    assert validate_config(S3ComputeLogManager.config_type(), config["compute_logs"]["config"]).success
    production = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())
    assert config["storage"] == production["storage"]
    assert config["run_coordinator"] == production["run_coordinator"]
    assert config["concurrency"] == production["concurrency"]


@pytest.mark.parametrize("config", ["dagster.yaml", "deploy/dagster.yaml", "deploy/ecs/dagster.yaml"])
def test_every_instance_states_the_ga4_limit_perfplat_declares(config):
    """Both guards of GA4's concurrent requests hold the one limit `completion_rate/measure.py` states."""
    from perfplat_assets.completion_rate.measure import GA4_CONCURRENCY_LIMIT, GA4_POOL, GA4_RUN_TAG

    concurrency = yaml.safe_load((ROOT / config).read_text(encoding="utf-8"))["concurrency"]
    assert [
        (limit["key"], limit["value"], limit["limit"])
        for limit in concurrency["runs"]["tag_concurrency_limits"]
    ] == [(GA4_RUN_TAG, "true", GA4_CONCURRENCY_LIMIT)]
    pools = concurrency["pools"]
    assert pools.get(GA4_POOL, {}).get("limit", pools["default_limit"]) == GA4_CONCURRENCY_LIMIT


def test_a_month_run_in_process_still_waits_for_its_ga4_pool_slot(production_home):
    """The code location's executor runs every step in the run's process; the completion rate's step still
    claims a slot of the GA4 pool first, as a process per step did: with the pool's one slot held elsewhere,
    the step waits, and runs once the slot is freed."""
    from perfplat_assets.completion_rate.measure import GA4_POOL

    instance = DagsterInstance.get()
    storage = instance.event_log_storage
    storage.set_concurrency_slots(GA4_POOL, 1)
    held = storage.claim_concurrency_slot(GA4_POOL, "another-run", "completion_rate")
    assert held.is_claimed
    command = [DAGSTER, "asset", "materialize"]
    command += [
        "-m",
        "perfplat_assets.definitions",
        "--select",
        "make_an_lpa/completion_rate",
        "--partition",
        "2025-05-01",
    ]
    run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        poll(
            "the step to wait for the GA4 pool",
            lambda: storage.get_concurrency_info(GA4_POOL).pending_step_count == 1,
            120,
            [],
            [run],
        )
        assert run.poll() is None, "the run did not wait for its slot"
        storage.free_concurrency_slot_for_step("another-run", "completion_rate")
        output, _ = run.communicate(timeout=240)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, output[-3000:]
    [done] = instance.get_runs()
    assert done.status == DagsterRunStatus.SUCCESS
    assert storage.get_concurrency_info(GA4_POOL).claimed_slots == []
    instance.dispose()
