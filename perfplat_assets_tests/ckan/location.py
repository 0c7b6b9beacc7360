"""Where the CKAN virtualenv lives, shared by the install step and the fixture so they cannot disagree."""

from __future__ import annotations

import os
from pathlib import Path

CKAN_VERSION = "2.11.6"
VENV_VARIABLE = "PERFPLAT_CKAN_VENV"
INSTALL_COMMAND = "python -m perfplat_assets_tests.ckan.install"
# Written last by the install step: its presence means every earlier step finished.
MARKER_NAME = ".perfplat-ckan-installed"


def ckan_venv() -> Path:
    """CKAN pins SQLAlchemy 1.4 and Flask 3.1, which clash with perfplat's own venv, so it gets its own."""
    configured = os.environ.get(VENV_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "perfplat" / f"ckan-{CKAN_VERSION}"


def ckan_executable(venv: Path) -> Path:
    return venv / "bin" / "ckan"


def marker(venv: Path) -> Path:
    return venv / MARKER_NAME
