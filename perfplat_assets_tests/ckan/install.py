"""Install CKAN 2.11.6 and its pinned requirements into a virtualenv of its own, for the CKAN test fixture.

Run it before the tests (it needs PyPI; the tests need no network):

    python -m perfplat_assets_tests.ckan.install [--force]

The venv is `$PERFPLAT_CKAN_VENV`, by default `~/.cache/perfplat/ckan-2.11.6`. A finished install leaves a
marker file, so running it again is a quick no-op. psycopg2 (pinned by CKAN, no Linux wheel) is built from
source and python-magic loads libmagic at import: the Debian packages libpq-dev and libmagic1 plus a C
compiler are needed. When one is missing and this runs as root with apt-get (as CI does), it installs them
itself; set PERFPLAT_CKAN_NO_APT=1 to forbid that and get the list instead. Only the standard library is
used here, so any Python 3.10+ can run it; that interpreter (its base, outside any venv) becomes CKAN's.
"""

from __future__ import annotations

import argparse
import ctypes.util
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from perfplat_assets_tests.ckan.location import (
    CKAN_VERSION,
    VENV_VARIABLE,
    ckan_executable,
    ckan_venv,
    marker,
)

NO_APT_VARIABLE = "PERFPLAT_CKAN_NO_APT"
PIP_HINT = " (pip needs PyPI; its messages above say what went wrong)"
PIP_QUIET = ["--quiet", "--disable-pip-version-check", "--no-input", "--progress-bar", "off"]
# What CKAN needs at import time that a half-built venv may lack: checked before trusting the marker.
IMPORT_CHECK = "import ckan, psycopg2, magic, sqlalchemy; assert ckan.__version__ == {version!r}"


class InstallError(Exception):
    """A step failed; the message says which and what to do about it."""


def say(message: str) -> None:
    print(f"[ckan-install] {message}", flush=True)


def run(command: Sequence[str | Path], what: str, env: dict[str, str] | None = None, hint: str = "") -> None:
    """Run a step with its output shown, turning a failure into an InstallError that names the step."""
    say(f"{what}: {' '.join(str(part) for part in command)}")
    try:
        subprocess.run([str(part) for part in command], check=True, env=env)
    except (OSError, subprocess.CalledProcessError) as error:
        raise InstallError(f"{what} failed: {error}{hint}") from error


def expected_marker() -> dict[str, str]:
    """A venv made by another Python or for another CKAN is not reused."""
    return {"ckan": CKAN_VERSION, "python": sys.version.split()[0]}


def already_installed(venv: Path) -> bool:
    try:
        recorded = json.loads(marker(venv).read_text())
    except (OSError, ValueError):
        return False
    if {key: recorded.get(key) for key in expected_marker()} != expected_marker():
        return False
    return imports_cleanly(venv, quiet=True)


def imports_cleanly(venv: Path, quiet: bool) -> bool:
    if not ckan_executable(venv).exists():
        return False
    check = IMPORT_CHECK.format(version=CKAN_VERSION)
    result = subprocess.run([venv / "bin" / "python", "-c", check], capture_output=quiet, check=False)
    return result.returncode == 0


def missing_system_packages() -> list[str]:
    """The Debian packages that the pinned requirements need and this machine lacks."""
    missing = []
    if shutil.which("pg_config") is None:
        missing.append("libpq-dev")  # psycopg2 2.9.11 is built from source against libpq
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        missing.append("gcc")
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").exists():
        missing.append(f"python{sys.version_info.major}.{sys.version_info.minor}-dev")
    if ctypes.util.find_library("magic") is None:
        missing.append("libmagic1")  # python-magic, imported by ckan.lib.uploader
    return missing


def ensure_system_packages() -> None:
    missing = missing_system_packages()
    if not missing:
        say("system packages: pg_config, a C compiler, Python.h and libmagic are present")
        return
    names = " ".join(missing)
    may_use_apt = os.geteuid() == 0 and shutil.which("apt-get") is not None
    if not may_use_apt or os.environ.get(NO_APT_VARIABLE, "") not in ("", "0"):
        raise InstallError(
            f"missing system packages: {names}. Install them first (Debian: `apt-get install -y {names}`)"
        )
    say(f"missing system packages {names}: installing them with apt-get (running as root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-q"], "apt-get update", env=env)
    run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], "apt-get install", env=env)
    still_missing = missing_system_packages()
    if still_missing:
        raise InstallError(f"still missing after apt-get install: {' '.join(still_missing)}")


def create_venv(venv: Path) -> Path:
    """`python -m venv` from inside another venv bases the new one on the base interpreter, as wanted."""
    python = venv / "bin" / "python"
    if python.exists():
        probe = subprocess.run(
            [python, "-c", "import sys; print(sys.version.split()[0])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == expected_marker()["python"]:
            say(f"reusing the unfinished venv at {venv}")
            return python
        say(f"the venv at {venv} is broken or for another Python: recreating it")
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    run([sys.executable, "-m", "venv", venv], "create the venv")
    return python


def download_sdist(python: Path, into: Path) -> Path:
    """The sdist carries requirements.txt, CKAN's pinned and tested set; the wheel does not."""
    run(
        [
            python,
            "-m",
            "pip",
            "download",
            *PIP_QUIET,
            "--no-deps",
            "--no-binary",
            ":all:",
            "--dest",
            into,
            f"ckan=={CKAN_VERSION}",
        ],
        "download the CKAN sdist",
        hint=PIP_HINT,
    )
    found = sorted(into.glob(f"ckan-{CKAN_VERSION}.tar.gz"))
    if not found:
        raise InstallError(f"pip download left no ckan-{CKAN_VERSION}.tar.gz in {into}")
    return found[0]


def read_requirements(sdist: Path) -> str:
    member = f"ckan-{CKAN_VERSION}/requirements.txt"
    try:
        with tarfile.open(sdist) as archive:
            extracted = archive.extractfile(member)
            if extracted is None:
                raise KeyError(member)
            return extracted.read().decode()
    except (OSError, KeyError, tarfile.TarError) as error:
        raise InstallError(f"cannot read {member} from {sdist}: {error}") from error


def as_constraints(requirements: str) -> str:
    """pip refuses extras in a constraints file: `sqlalchemy[mypy]==1.4.52` becomes `sqlalchemy==1.4.52`."""
    lines = (line.split("#", 1)[0].strip() for line in requirements.splitlines())
    return "".join(re.sub(r"\[[^\]]*\]", "", line) + "\n" for line in lines if line)


def install(venv: Path, force: bool) -> None:
    started = time.monotonic()
    if force and venv.exists():
        say(f"--force: removing {venv}")
        shutil.rmtree(venv)
    if already_installed(venv):
        say(f"CKAN {CKAN_VERSION} is already installed in {venv}: nothing to do")
        return
    base = getattr(sys, "_base_executable", sys.executable)
    say(f"installing CKAN {CKAN_VERSION} into {venv} with {base} (Python {sys.version.split()[0]})")
    marker(venv).unlink(missing_ok=True)
    ensure_system_packages()
    python = create_venv(venv)
    with tempfile.TemporaryDirectory(prefix="perfplat-ckan-install-") as scratch:
        sdist = download_sdist(python, Path(scratch))
        requirements = Path(scratch) / "requirements.txt"
        requirements.write_text(read_requirements(sdist))
        run(
            [python, "-m", "pip", "install", *PIP_QUIET, "--requirement", requirements],
            "install CKAN's pinned requirements",
            hint=PIP_HINT,
        )
        # The constraints keep ckan's own (loose) dependencies on the pins just installed.
        constraints = Path(scratch) / "constraints.txt"
        constraints.write_text(as_constraints(requirements.read_text()))
        run(
            [python, "-m", "pip", "install", *PIP_QUIET, "--constraint", constraints, sdist],
            "install CKAN itself",
            hint=PIP_HINT,
        )
        digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if not imports_cleanly(venv, quiet=False):
        raise InstallError(f"the new venv at {venv} cannot import CKAN {CKAN_VERSION} and its drivers")
    marker(venv).write_text(json.dumps({**expected_marker(), "requirements_sha256": digest}, indent=2) + "\n")
    say(f"done in {time.monotonic() - started:.0f} s: {ckan_executable(venv)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m perfplat_assets_tests.ckan.install",
        description=f"Install CKAN {CKAN_VERSION} into its own venv (${VENV_VARIABLE}, "
        f"default ~/.cache/perfplat/ckan-{CKAN_VERSION}) for perfplat's CKAN test fixture.",
    )
    parser.add_argument("--force", action="store_true", help="remove the venv first and install afresh")
    arguments = parser.parse_args(argv)
    try:
        install(ckan_venv(), arguments.force)
    except InstallError as error:
        print(f"[ckan-install] FAILED: {error}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
