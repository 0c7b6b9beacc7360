"""`make lint` holds across the checkout: ruff's rules in pyproject.toml, among them no function over 60
statements or 6 parameters (PLR0915, PLR0913), and the formatting."""

from __future__ import annotations

from perfplat_assets_tests.support.services import make


def test_make_lint_passes():
    done = make("lint")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "ruff check ." in done.stdout and "ruff format --check ." in done.stdout
