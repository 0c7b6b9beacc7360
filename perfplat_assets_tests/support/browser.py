"""Helpers for browser tests: Debian's Chromium driven by Playwright, and the real webserver and daemon.

Playwright's own browser download does not work on these machines, so the tests use the distribution's
Chromium; a machine without it skips loudly (and CI, where a missing browser is a broken build, fails).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from perfplat_assets_tests.support.ci import unavailable
from perfplat_assets_tests.support.services import ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ARTIFACTS = ROOT / "test-artifacts"

CHROMIUM = Path("/usr/bin/chromium")
# Headless Chromium as root in a container, with nothing that phones home or updates itself mid-test.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
HOW_TO_GET_A_BROWSER = (
    "the browser test drives Debian's Chromium with Python Playwright; missing: {missing}. "
    "Install Chromium with `apt-get install chromium` (it must be at {chromium}) and Playwright with "
    "`.venv/bin/pip install playwright`; `playwright install` is not needed"
)


def require_chromium() -> None:
    """Skip loudly without Chromium or Playwright; under CI a missing browser fails the build instead."""
    missing = []
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        missing.append(f"{CHROMIUM} (Debian package chromium)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("the Python package playwright")
    if not missing:
        return
    unavailable(HOW_TO_GET_A_BROWSER.format(chromium=CHROMIUM, missing=" and ".join(missing)))


@pytest.fixture
def chromium() -> Iterator[Browser]:
    """Debian's Chromium (Playwright's own download does not work here); first, so a skip costs nothing."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
