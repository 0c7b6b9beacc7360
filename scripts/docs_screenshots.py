"""`make screenshots`: the README's pictures of the UI and of the report, taken from the embedded default.

Runs the demo into a fresh folder (its own Dagster home and metrics store, so the checkout's `.perfplat/` is
left alone), serves that instance with `dagster-webserver`, and photographs the assets' lineage and Make an
LPA's report with Debian's Chromium through Playwright. Writes docs/images/ui.png and docs/images/report.png.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
IMAGES = ROOT / "docs" / "images"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the webserver did not answer at {url} within {seconds:.0f} s")


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="perfplat-screenshots-"))
    home = work / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PERFPLAT_", "DAGSTER_"))}
    env |= {"DAGSTER_HOME": str(home), "PERFPLAT_DATA_DIR": str(work / "data")}
    subprocess.run([str(BIN / "perfplat-demo")], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    port = _free_port()
    server = subprocess.Popen(
        [str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/server_info", 120)
        IMAGES.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1440, "height": 860})
            page.goto(f"http://127.0.0.1:{port}/locations/perfplat/asset-groups/make_an_lpa/lineage")
            skip = page.get_by_role("button", name="Skip")  # Dagster's first-visit invitation
            skip.wait_for(timeout=30_000)
            skip.click()
            page.get_by_text("data_gov_uk_publication").first.wait_for(timeout=60_000)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(IMAGES / "ui.png"))
            report = work / "data" / "publish" / "make_a_lasting_power_of_attorney_service" / "report.html"
            page = browser.new_page(viewport={"width": 1100, "height": 1200})
            page.goto(report.as_uri(), wait_until="load")
            page.screenshot(path=str(IMAGES / "report.png"))
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {IMAGES / 'ui.png'} and {IMAGES / 'report.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
