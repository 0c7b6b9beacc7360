"""What the tests and benchmarks share, each helper defined once; the tests themselves stay beside
conftest.py, and the CKAN fixture package in ../ckan/.

- `ci`: whether CI is running, and `unavailable()`: skip loudly on a developer's machine when a service
  or tool a test needs is missing, fail under CI where that is a broken build; `needs_jq`.
- `services`: the checkout's ROOT and the venv's BIN, free ports, polling with a deadline, stopping a
  process group, and the real Dagster webserver and daemon started from workspace.yaml.
- `postgres`: which PostgreSQL server the tests use (PERFPLAT_TEST_POSTGRES_URL or the local default).
- `aws`: moto's AWS on loopback: the region, the S3 bucket and prefix the tests publish to, the SQS queue
  resource the sensor reads.
- `browser`: Debian's Chromium driven by Playwright (the `chromium` fixture), and where screenshots go.
- `axe`: axe-core, the accessibility engine, installed once with npm and run in a page.
- `faults`: an HTTP hop in front of a real server that refuses, slows or reacts to requests.
- `run_results`: a month materialised in process, and the failure messages of a run.
- `sources`: source databases (Make an LPA feedback, Sirius cases) as the real systems define them.

Nothing here is imported by `__init__`, so a benchmark that needs one module does not load pytest.
"""
