"""A metrics-store role without the rights perfplat needs: real roles with real GRANTs on the real server.
Each refusal is one sentence naming PERFPLAT_METRICS_DB_URL (password hidden) and exactly the rights the
role lacks, with the statements that give them; never a raw SQLAlchemy traceback."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from dagster import DagsterInstance, materialize
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import URL, make_url

from perfplat_assets.common.errors import SourceUnavailable
from perfplat_assets.common.months import Month
from perfplat_assets.common.run_start import RunStart
from perfplat_assets.metrics_store.io_manager import MetricsStoreIOManager
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.metrics_store.tables import metadata, service_table
from perfplat_assets.publication.committing.journal import StoreFailed
from perfplat_assets.publication.history.importing import import_published_file
from perfplat_assets.services.make_an_lpa.service import MAKE_AN_LPA
from perfplat_assets.store_schema import STORED_TABLES
from perfplat_assets.uptime.assets import build_asset
from perfplat_assets.uptime.calculation import Uptime
from perfplat_assets.uptime.measure import table as uptime_template
from perfplat_assets_tests.support.published import published_record
from perfplat_assets_tests.support.services import BIN
from perfplat_assets_tests.support.store import imports, published_records
from perfplat_sample.resources import EmbeddedRoute53HealthCheck

uptime = service_table("make_an_lpa", uptime_template)  # Make an LPA's own copy

assert STORED_TABLES  # every stored asset's table is registered, so `TABLES` is the whole schema
TABLES = metadata.tables

PASSWORD = f"pw-{uuid.uuid4().hex[:10]}"  # trust auth ignores it; no message may show it
MAY = Month.parse("2025-05")


def _admin(database_url: str) -> Engine:
    return create_engine(database_url, isolation_level="AUTOCOMMIT")


@contextmanager
def _role(database_url: str) -> Iterator[URL]:
    """A login role of its own (roles are cluster-wide) with a password, and its URL for the test's
    database; its grants and the role go afterwards."""
    name = f"perfplat_role_{uuid.uuid4().hex[:10]}"
    admin = _admin(database_url)
    with admin.connect() as connection:
        connection.execute(text(f"CREATE ROLE {name} LOGIN PASSWORD '{PASSWORD}'"))
    try:
        yield make_url(database_url).set(drivername="postgresql", username=name, password=PASSWORD)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP OWNED BY {name}"))
            connection.execute(text(f"DROP ROLE {name}"))
        admin.dispose()


def _grant(database_url: str, *statements: str) -> None:
    admin = _admin(database_url)
    with admin.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    admin.dispose()


def _counts(database_url: str) -> dict[str, int]:
    admin = _admin(database_url)
    with admin.connect() as connection:
        counts = {
            name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one() for name in TABLES
        }
    admin.dispose()
    return counts


def _created_as_admin(database_url: str) -> None:
    """perfplat's tables, made by the administrator (their owner), as a store that is already in use."""
    store = MetricsStore(url=database_url)
    store.engine().dispose()


def _remedy(message: str) -> list[str]:
    """The statements the message offers an administrator."""
    statements = message.split("An administrator can give them: ", 1)[1]
    return [statement.strip() for statement in statements.split(";") if statement.strip()]


def _assert_one_clear_sentence(message: str, role: URL) -> None:
    assert "PERFPLAT_METRICS_DB_URL" in message
    assert f"({role.render_as_string(hide_password=True)})" in message
    assert PASSWORD not in message
    assert "\n" not in message.strip()
    for raw in ("Traceback", "InsufficientPrivilege", "sqlalchemy", "[SQL:", "psycopg"):
        assert raw not in message


def _published_file(tmp_path: Path) -> Path:
    records = [
        published_record(month, data_type, count)
        for month in (MAY, Month.parse("2025-06"))
        for data_type, count in (("digital-take-up", 41.5), ("uptime-percent", 100))
    ]
    path = tmp_path / "data.json"
    path.write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    return path


def _import_as(role: URL, path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """The installed command, with the role's URL the only perfplat setting."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PERFPLAT_")}
    env["PERFPLAT_METRICS_DB_URL"] = role.render_as_string(hide_password=False)
    env["PERFPLAT_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run(
        [str(BIN / "perfplat"), "import-published", str(path)], capture_output=True, text=True, env=env
    )


def test_a_read_only_role_is_told_the_rights_it_lacks_and_the_import_changes_nothing(postgres_url, tmp_path):
    _created_as_admin(postgres_url)
    path = _published_file(tmp_path)
    with _role(postgres_url) as role:
        _grant(postgres_url, f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role.username}")
        before = _counts(postgres_url)

        refused = _import_as(role, path, tmp_path)

        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert refused.stdout == ""
        message = refused.stderr.strip()
        assert message.startswith("perfplat import-published: The role "), message
        _assert_one_clear_sentence(message, role)
        assert (
            "(importing Make an LPA's published history was refused: permission denied for table "
            "make_an_lpa__published_records)" in message
        )
        tables = ", ".join(f"public.{name}" for name in sorted(TABLES))
        assert f"INSERT, UPDATE and DELETE on {tables}" in message
        assert "SELECT" not in message.split("An administrator")[0], "the role may read: not a missing right"
        sequences = sorted(
            f"public.{t.name}_id_seq" for t in TABLES.values() if t.autoincrement_column is not None
        )
        assert f"USAGE on the sequences {', '.join(sequences)}" in message
        assert _counts(postgres_url) == before

        # What the message tells an administrator to run is what the role needed.
        _grant(postgres_url, *_remedy(message))
        imported = _import_as(role, path, tmp_path)
        assert imported.returncode == 0, imported.stderr
        assert "Imported 4 records" in imported.stdout
    counts = _counts(postgres_url)
    assert counts[published_records.name] == 4 and counts[imports.name] == 1


def test_a_role_without_create_on_a_fresh_database_is_told_to_get_it(postgres_url):
    with _role(postgres_url) as role:
        store = MetricsStore(url=role.render_as_string(hide_password=False))
        with pytest.raises(SourceUnavailable) as refused:
            store.engine()
        message = str(refused.value)
        _assert_one_clear_sentence(message, role)
        assert (
            "creating or upgrading perfplat's tables was refused: permission denied for schema public"
            in message
        )
        assert "CREATE on the schema public, to create perfplat's tables" in message
        assert _remedy(message) == [f"GRANT CREATE ON SCHEMA public TO {role.username}"]
        admin = _admin(postgres_url)
        with admin.connect() as connection:
            assert inspect(connection).get_table_names() == []
        admin.dispose()


def test_a_write_by_a_read_only_role_names_the_rights_not_the_lock(postgres_url):
    """What an asset's IO manager does: `store.save`, whose `LOCK TABLE` needs UPDATE or DELETE."""
    admin_store = MetricsStore(url=postgres_url)
    stored = Uptime(MAY, 744, 744, 100.0, None)
    admin_store.save(uptime.name, [MAY], [stored])
    admin_store.engine().dispose()
    with _role(postgres_url) as role:
        _grant(postgres_url, f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role.username}")
        store = MetricsStore(url=role.render_as_string(hide_password=False))
        with pytest.raises(SourceUnavailable) as refused:
            store.save(uptime.name, [MAY], [Uptime(MAY, 744, 700, 94.1, None)])
        store.engine().dispose()
        message = str(refused.value)
        _assert_one_clear_sentence(message, role)
        assert (
            "writing make_an_lpa__uptime was refused: permission denied for table make_an_lpa__uptime"
            in message
        )
        assert "INSERT, UPDATE and DELETE on " in message and "public.make_an_lpa__uptime" in message
    assert admin_store.load(uptime.name, [MAY]) == [stored]
    admin_store.engine().dispose()


def test_a_role_with_table_rights_but_no_sequence_usage_is_told_exactly_that(postgres_url, tmp_path):
    _created_as_admin(postgres_url)
    with _role(postgres_url) as role:
        _grant(
            postgres_url,
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role.username}",
        )
        store = MetricsStore(url=role.render_as_string(hide_password=False))
        with pytest.raises(StoreFailed) as refused:
            import_published_file(_published_file(tmp_path), store)
        store.engine().dispose()
        message = str(refused.value)
        _assert_one_clear_sentence(message, role)
        assert "permission denied for sequence make_an_lpa__imports_id_seq" in message
        sequences = sorted(
            f"public.{t.name}_id_seq" for t in TABLES.values() if t.autoincrement_column is not None
        )
        assert (
            "lacks rights perfplat needs (importing Make an LPA's published history was refused: " in message
        )
        assert _remedy(message) == [f"GRANT USAGE ON SEQUENCE {', '.join(sequences)} TO {role.username}"]
    assert _counts(postgres_url)[published_records.name] == 0


def test_an_upgrade_that_adds_a_column_needs_the_tables_owner(postgres_url):
    """An earlier perfplat's store: completion_rate without ga4_time_zone, owned by the administrator."""
    _created_as_admin(postgres_url)
    with _role(postgres_url) as role:
        _grant(
            postgres_url,
            "ALTER TABLE make_an_lpa__completion_rate DROP COLUMN ga4_time_zone",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role.username}",
            f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role.username}",
        )
        store = MetricsStore(url=role.render_as_string(hide_password=False))
        with pytest.raises(SourceUnavailable) as refused:
            store.engine()
        message = str(refused.value)
        _assert_one_clear_sentence(message, role)
        assert "must be owner of table make_an_lpa__completion_rate" in message
        assert "ownership of the table public.make_an_lpa__completion_rate (owned by " in message
        assert "to add its new column ga4_time_zone" in message
        assert _remedy(message) == [
            f"ALTER TABLE public.make_an_lpa__completion_rate OWNER TO {role.username}"
        ]
        admin = _admin(postgres_url)
        with admin.connect() as connection:
            columns = {
                column["name"] for column in inspect(connection).get_columns("make_an_lpa__completion_rate")
            }
        admin.dispose()
        assert "ga4_time_zone" not in columns


def test_an_asset_run_on_a_read_only_store_fails_saying_which_rights(postgres_url, tmp_path):
    """The IO manager stores the asset's month: the run's failure is the sentence, with no database cause."""
    _created_as_admin(postgres_url)
    with _role(postgres_url) as role:
        _grant(postgres_url, f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role.username}")
        store = MetricsStore(url=role.render_as_string(hide_password=False))
        result = materialize(
            [build_asset(MAKE_AN_LPA)],
            partition_key=MAY.key,
            resources={
                "run_start": RunStart(publish_dir=str(tmp_path / "publish")),
                "make_an_lpa__route53_health_check": EmbeddedRoute53HealthCheck(),  # the embedded sample
                "metrics_store_io_manager": MetricsStoreIOManager(store=store),
            },
            instance=DagsterInstance.ephemeral(),
            raise_on_error=False,
        )
        store.engine().dispose()
        assert not result.success
        [failed] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        handling = failed.step_failure_data.error  # Dagster's own wrapper of an IO manager's error
        error = handling.cause
        assert error is not None and error.cls_name == "SourceUnavailable", handling.to_string()
        assert error.cause is None and error.context is None, "no database exception behind the sentence"
        message = error.message.removeprefix("perfplat_assets.common.errors.SourceUnavailable: ")
        _assert_one_clear_sentence(message, role)
        assert (
            "writing make_an_lpa__uptime was refused: permission denied for table make_an_lpa__uptime"
            in message
        )
        assert "GRANT INSERT, UPDATE, DELETE ON " in message
    assert _counts(postgres_url)[uptime.name] == 0
