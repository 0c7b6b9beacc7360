"""axe-core, the accessibility engine, for the browser tests: installed once from the npm registry into a
cache folder with `npm install --no-save`, so the project needs no package.json or node_modules of its own.

A machine without npm, or whose install fails, skips loudly; under CI it fails (`unavailable`, in ci.py).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

from perfplat_assets_tests.support.ci import unavailable

AXE_VERSION = "axe-core@4"
AXE_PREFIX = Path(os.environ.get("PERFPLAT_AXE_DIR", Path.home() / ".cache" / "perfplat" / "axe"))
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def axe_source() -> str:
    """The text of axe.min.js, installing axe-core 4 into the cache the first time; under a lock, so that
    parallel test workers (or two checkouts' test runs) install it once, not over each other."""
    script = AXE_PREFIX / "node_modules" / "axe-core" / "axe.min.js"
    if script.is_file():
        return script.read_text(encoding="utf-8")
    AXE_PREFIX.mkdir(parents=True, exist_ok=True)
    with open(AXE_PREFIX / ".install-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        _install(script)
    return script.read_text(encoding="utf-8")


def _install(script: Path) -> None:
    """npm install, unless another process installed it while this one waited for the lock."""
    if not script.is_file():
        npm = shutil.which("npm")
        if npm is None:
            unavailable(
                "the accessibility test needs npm to install axe-core: `apt-get install npm` (Debian), "
                f"or put axe-core 4 at {script}"
            )
        try:
            subprocess.run(
                [
                    npm,
                    "install",
                    "--no-save",
                    "--no-audit",
                    "--no-fund",
                    "--prefix",
                    str(AXE_PREFIX),
                    AXE_VERSION,
                ],
                check=True,
                capture_output=True,
                text=True,
                timeout=300,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            output = (getattr(error, "stderr", None) or str(error)).strip()[-800:]
            unavailable(f"`npm install {AXE_VERSION}` into {AXE_PREFIX} failed: {output}")


def axe_violations(page) -> list[dict]:
    """Run axe on the page with the WCAG 2.0, 2.1 and 2.2 A and AA rules; its violations, each with the
    rule, its impact, what it means and the elements that break it."""
    page.add_script_tag(content=axe_source())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_AA_TAGS,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]
