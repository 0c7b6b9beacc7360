"""CI or a developer's machine: what a test does when something it needs is not there.

On a developer's machine a missing server or tool skips the test loudly; under CI (the `CI` variable set to
1, true or yes) a missing prerequisite is a broken build, so the test fails instead.
"""

from __future__ import annotations

import os
import shutil

import pytest


def running_under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(message: str) -> None:
    """Skip loudly on a developer's machine; fail under CI, where a missing prerequisite is a broken build."""
    if running_under_ci():
        pytest.fail(f"{message} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(f"SKIPPED LOUDLY: {message}")


# OPG's automation merges files with `jq`; without it the tests that run it skip loudly, except under CI.
needs_jq = pytest.mark.skipif(
    shutil.which("jq") is None and not running_under_ci(), reason="SKIPPED LOUDLY: jq"
)
