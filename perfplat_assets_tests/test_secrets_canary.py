"""The canary: passwords given in every form a URL allows never appear anywhere perfplat writes or prints.

One month runs through Dagster's CLI, on the code location's executor, as production runs it, with
the feedback, Sirius and metrics-store URLs each carrying a password in a different form (the local Postgres
trusts loopback, so the passwords are accepted and ignored), then a run whose database cannot be reached
fails with a password in its URL. Then everything
is searched: stdout and stderr, every file of DAGSTER_HOME (event log, run storage, compute logs), every
published and embedded file, and every table of the metrics store.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from perfplat_assets_tests.support.services import (
    DAGSTER,
    MATERIALIZE_EVERY_ASSET,
    ROOT,
    dagster_environment,
)
from perfplat_assets_tests.support.sources import create_postgres_feedback, create_sirius, feedback

CANARIES = {
    "userinfo": "Canary-UserInfo-7Hq",
    "query": "Canary-Query-Zx1",
    "ssl": "Canary-SslPass-Pp4",
    "options": "Canary-Options-Lm8",
    "failure": "Canary-Failure-Qe2",
}


def _files(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def test_no_password_appears_anywhere(tmp_path, postgres_url):
    from datetime import UTC, datetime

    base = make_url(postgres_url)
    create_postgres_feedback(postgres_url, [feedback(datetime(2025, 5, 10, tzinfo=UTC), "satisfied")])
    create_sirius(postgres_url, [("LPA", datetime(2025, 5, 10).date(), "A123")])
    lpa = base.set(query={"password": CANARIES["query"]})
    metrics = base.set(password=CANARIES["userinfo"])
    sirius = base.set(
        query={"sslpassword": CANARIES["ssl"], "options": f"-c application_name={CANARIES['options']}"}
    )
    env = dagster_environment(
        tmp_path,
        PERFPLAT_LPA_DB_URL=lpa.render_as_string(hide_password=False),
        PERFPLAT_METRICS_DB_URL=metrics.render_as_string(hide_password=False),
        PERFPLAT_SIRIUS_DB_URL=sirius.render_as_string(hide_password=False),
    )
    command = [DAGSTER, *MATERIALIZE_EVERY_ASSET]
    good = subprocess.run(
        [*command, "--partition", "2025-05-01"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert good.returncode == 0, good.stderr[-3000:]

    unreachable = base.set(port=1, query={"password": CANARIES["failure"], "connect_timeout": "2"})
    env["PERFPLAT_LPA_DB_URL"] = unreachable.render_as_string(hide_password=False)
    bad = subprocess.run(
        [*command, "--partition", "2025-06-01"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0
    assert "Cannot connect to the database in PERFPLAT_LPA_DB_URL" in bad.stdout + bad.stderr

    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        tables = inspect(connection).get_table_names()
        store = "".join(
            str(connection.execute(text(f'SELECT * FROM "{table}"')).all()) for table in tables
        ).encode()
    engine.dispose()
    assert "make_an_lpa__published_records" in tables and "make_an_lpa__publications" in tables
    everywhere = {
        "stdout and stderr": (good.stdout + good.stderr + bad.stdout + bad.stderr).encode(),
        "DAGSTER_HOME": _files(Path(env["DAGSTER_HOME"])),
        "PERFPLAT_DATA_DIR": _files(Path(env["PERFPLAT_DATA_DIR"])),
        "the metrics store": store,
    }
    assert everywhere["DAGSTER_HOME"], "the event log and run storage were searched"
    for where, content in everywhere.items():
        for form, canary in CANARIES.items():
            for shown in {canary, quote(canary, safe=""), quote(f"application_name={canary}", safe="")}:
                assert shown.encode() not in content, f"the {form} password appears in {where}"
