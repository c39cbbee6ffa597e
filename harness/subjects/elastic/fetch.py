"""Preparing a copy of Elastic's framework for the subject.

Their package (``elasticsearch-connectors``) is not published on PyPI; when a version is
asked for, the registry is asked first, and if it has nothing the answer says plainly that a
checkout is needed. From a checkout, the virtualenv is built as their ``make install``
builds it (app/connectors_service/.venv: a current pip, their SDK, then the service, both
editable), which is where ``ElasticFramework.locate`` looks."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from harness.subjects.elastic.framework import ElasticFramework, FrameworkNotFound

PACKAGE = "elasticsearch-connectors"
REPOSITORY = "https://github.com/elastic/connectors"


def _pip(python: Path, *args: str, cwd: Path | None = None) -> None:
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *args],
        cwd=cwd, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise FrameworkNotFound(f"pip install {' '.join(args)} failed: {done.stderr[-1500:]}")


def from_checkout(checkout: Path) -> ElasticFramework:
    service = checkout / "app" / "connectors_service"
    sdk = checkout / "libs" / "connectors_sdk"
    if not (service / "pyproject.toml").exists() or not sdk.exists():
        raise FrameworkNotFound(
            f"{checkout} is not a checkout of {REPOSITORY} (no app/connectors_service and "
            "libs/connectors_sdk): clone it, e.g. `git clone --branch v9.5.2 "
            f"{REPOSITORY}`"
        )
    venv = service / ".venv"
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    _pip(python, "--upgrade", "pip")  # theirs needs a pip that reads relative file: URLs
    _pip(python, "-e", str(sdk))
    _pip(python, "-e", ".", cwd=service)
    return ElasticFramework.locate(str(venv))


def from_registry(version: str, target: Path) -> ElasticFramework:
    with tempfile.TemporaryDirectory() as scratch:
        found = subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", scratch,
             f"{PACKAGE}=={version}"],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
    if found.returncode != 0:
        raise FrameworkNotFound(
            f"{PACKAGE} {version} is not published on the package registry this machine "
            f"reaches, so a checkout is needed: `git clone --branch v{version} {REPOSITORY}` "
            "then `harness fetch --elastic-connectors-checkout connectors`"
        )
    subprocess.run([sys.executable, "-m", "venv", str(target)], check=True, timeout=300)
    python = target / "bin" / "python"
    _pip(python, "--upgrade", "pip")
    _pip(python, f"{PACKAGE}=={version}")
    return ElasticFramework.locate(str(target))
