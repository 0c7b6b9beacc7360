"""`make docs` holds: the documentation site builds strictly (a broken link or anchor is an error), and the
README stays a front page that points into it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from perfplat_assets_tests.support.services import ROOT, make


def test_make_docs_builds_the_site_strictly(tmp_path):
    done = make("docs", env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "mkdocs build --strict" in done.stdout
    built = ROOT / "site"
    assert (built / "runbook" / "index.html").is_file() and (built / "configuration" / "index.html").is_file()


def test_a_broken_anchor_fails_the_strict_build(tmp_path):
    """The strictness the first test relies on: a link to a heading that does not exist is an error."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n\nSee [the runbook](runbook.md#no-such-section).\n")
    (tmp_path / "docs" / "runbook.md").write_text("# Runbook\n\n## A run failed\n")
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    config = re.sub(r"\nnav:\n(?:  .*\n)+", "\n", config).replace("base_path: [.]", f"base_path: [{ROOT}]")
    (tmp_path / "mkdocs.yml").write_text(config)
    done = subprocess.run(
        [str(Path(sys.prefix) / "bin" / "mkdocs"), "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode != 0
    assert "no-such-section" in done.stderr


def test_the_readme_is_a_front_page_that_links_into_the_docs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) <= 10 * 1024
    linked = set(re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme))
    local = {link for link in linked if not link.startswith("http")}
    assert {"docs/configuration.md", "docs/runbook.md", "LICENSE"} <= local
    assert all((ROOT / link).exists() for link in local), sorted(
        link for link in local if not (ROOT / link).exists()
    )
