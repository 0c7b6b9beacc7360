"""`make lint` holds across the checkout: ruff's rules in pyproject.toml, among them no function over 60
statements or 6 parameters (PLR0915, PLR0913), and the formatting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from perfplat_assets_tests.support.services import ROOT


def test_make_lint_passes():
    venv = Path(sys.prefix)
    # This environment is the tests' own, installed already: make is told not to install it again.
    done = subprocess.run(
        ["make", "--no-print-directory", "lint", f"VENV={venv}", "-o", f"{venv}/.installed-test"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "ruff check ." in done.stdout and "ruff format --check ." in done.stdout
