# perfplat: `make demo` to see it work, `make test` to run the tests. Needs Python 3.11+ and make.
# `make dev` serves the UI on UI_PORT (3000) and the local AWS endpoint on AWS_PORT (4566); to move them:
#   make dev UI_PORT=3001 AWS_PORT=4567
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UI_PORT ?= 3000
AWS_PORT ?= 4566
# Dagster's instance: like `dagster dev` and `dg` run from the checkout, the make targets leave DAGSTER_HOME
# unset, so Dagster reads the checkout's dagster.yaml, which keeps the instance in .perfplat/dagster_home
# beside the metrics store. One instance, whichever command ran (production's is deploy/dagster.yaml).
unexport DAGSTER_HOME
# The installs run uv, itself installed into .venv by pip from PyPI: it downloads and installs in parallel,
# the demo's environment in about a quarter of pip's time (docs/PERFORMANCE.md), and prints each package it
# adds.
UV := $(BIN)/uv
INSTALL := $(UV) pip install --python $(BIN)/python --compile-bytecode

.PHONY: install install-dev install-test demo test bench docs docs-serve screenshots dev localstack materialize lint format validate clean

# .venv grows by what each target runs, from this checkout: the demo's environment first (perfplat, its
# embedded sample from sample/, Dagster's dg), then the local AWS endpoint for `make dev`, then the test tools.
install: $(VENV)/.installed-demo
install-dev: $(VENV)/.installed-dev
install-test: $(VENV)/.installed-test

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "perfplat needs Python 3.11 or newer: set PYTHON=python3.11 (or newer)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(UV): | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check 'uv>=0.9,<1'

$(VENV)/.installed-demo: pyproject.toml sample/pyproject.toml | $(UV)
	@echo "installing perfplat, its embedded sample (sample/) and Dagster's dg command into $(VENV):"
	$(INSTALL) -e '.[dg]' -e ./sample
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-demo
	@echo "adding the local AWS endpoint of make dev (moto's server) to $(VENV):"
	$(INSTALL) -e './sample[local]'
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed-dev
	@echo "adding the test tools (pytest, pytest-xdist, hypothesis, playwright, ruff) to $(VENV):"
	$(INSTALL) -e '.[test]'
	@touch $@

demo: install
	$(BIN)/perfplat-demo

# The suite on parallel workers, one more than the cores by default: many tests spend much of their time
# waiting on a daemon, a webserver or a browser, and a third worker on two cores fills those waits (a clean
# clone's pytest: 590 s on 2 workers, 507 s on 3; docs/PERFORMANCE.md). Tests sharing one costly server
# stay on one worker.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(len(os.sched_getaffinity(0)) + 1)')
test: install-test
	-$(BIN)/python -m perfplat_assets_tests.ckan.install  # CKAN for its tests; they skip loudly without it
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

# Every benchmark, as recorded in docs/PERFORMANCE.md (satisfaction builds its 10-million-row table once).
bench: install-test
	$(BIN)/python benchmarks/satisfaction.py
	$(BIN)/python benchmarks/queue_drain.py
	$(BIN)/python benchmarks/backfill.py --months 24
	$(BIN)/python benchmarks/run_floor.py

# The documentation site from docs/ into site/, strict: a broken link or anchor fails the build (as in the suite).
export NO_MKDOCS_2_WARNING := 1
docs: install-test
	$(BIN)/mkdocs build --strict

docs-serve: install-test
	$(BIN)/mkdocs serve

# The README's pictures (docs/images/): the UI and the report, from the embedded default, through Chromium.
screenshots: install-test
	$(BIN)/python scripts/docs_screenshots.py

dev: install-dev
	$(BIN)/perfplat-localstack --with-dagster --dagster-port $(UI_PORT) --port $(AWS_PORT)

localstack: install-dev
	$(BIN)/perfplat-localstack --port $(AWS_PORT)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# One month (or a range) on whatever the environment configures, on the local instance, e.g.
# make materialize PARTITION=2025-05-01, or PARTITION=2025-01 TO=2025-06 for one run over a range. A month
# that is not published (not closed, or before the first) is refused before anything starts.
materialize: install
	@test -n "$(PARTITION)" || { echo "usage: make materialize PARTITION=YYYY-MM-01 [TO=YYYY-MM-01]"; exit 2; }
	$(BIN)/perfplat materialize $(PARTITION) $(if $(TO),--to $(TO))

validate: install
	$(BIN)/dg check defs

clean:
	rm -rf .perfplat .pytest_cache .ruff_cache
