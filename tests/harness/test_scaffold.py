"""`harness new connector`: the three files and the entry point, lint-clean; and, in a
project of its own, a suite that collects at once and fails saying what to write next."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from harness.scaffold import GROUP, ScaffoldError, new_connector, register

PYPROJECT = """[project]
name = "acme"
version = "0.1"

[tool.setuptools.packages.find]
include = ["project_connectors*"]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    return tmp_path


def test_it_writes_three_lint_clean_modules_and_registers_the_source(project: Path):
    done = new_connector(project, "acme_crm", "postgresql")
    assert done[:3] == [
        "wrote project_connectors/acme_crm/source.py",
        "wrote fixtures/acme_crm.py",
        "wrote scenarios/acme_crm/test_acme_crm.py",
    ]
    assert (project / "project_connectors" / "__init__.py").exists()
    assert (
        GROUP + '\nacme_crm = "project_connectors.acme_crm.source:AcmeCrmDataSource"'
        in (project / "pyproject.toml").read_text()
    )
    linted = subprocess.run(
        ["ruff", "check", "--no-cache", "--line-length", "100", "--select", "E,F,W,I,B,UP", "."],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert linted.returncode == 0, linted.stdout
    formatted = subprocess.run(
        ["ruff", "format", "--no-cache", "--line-length", "100", "--check", "."],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert formatted.returncode == 0, formatted.stdout


def test_it_refuses_to_overwrite_a_bad_name_an_unknown_service_and_a_non_project(project):
    new_connector(project, "acme", "postgresql")
    with pytest.raises(ScaffoldError, match=r"not overwriting project_connectors/acme/source\.py"):
        new_connector(project, "acme", "postgresql")
    with pytest.raises(ScaffoldError, match="lower-case letters"):
        new_connector(project, "Acme-CRM", "postgresql")
    with pytest.raises(ScaffoldError, match=r"'pg' is not a service kind; known: .*postgresql"):
        new_connector(project, "other", "pg")
    with pytest.raises(ScaffoldError, match=r"has no pyproject\.toml"):
        new_connector(project / "fixtures", "other", "postgresql")


def test_registering_twice_adds_one_line_to_the_existing_table(project: Path):
    pyproject = project / "pyproject.toml"
    assert register(pyproject, 'a = "m:A"') and register(pyproject, 'b = "m:B"')
    assert not register(pyproject, 'a = "m:A"')
    assert pyproject.read_text().count(GROUP) == 1


@pytest.mark.services
def test_a_scaffolded_project_collects_at_once_and_says_what_to_write_next(
    project: Path, es_endpoint, pg_endpoint, tmp_path_factory
):
    """Installed in a virtualenv of its own (beside ours), as its author would, and run
    against this session's services."""
    done = subprocess.run(
        ["harness", "new", "connector", "acme_crm", "--service", "postgresql",
         "--root", str(project)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # The author's shell, not ours: a PYTHONPATH naming a harness checkout (a stress run
    # started from a worktree set one) puts its `fixtures` package before the project's,
    # and the project's own `fixtures.acme_crm` cannot be imported.
    author = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env_dir = tmp_path_factory.mktemp("venv")
    venv.create(env_dir, system_site_packages=True)
    python = str(env_dir / "bin" / "python")
    installed = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "-e", str(project)],
        capture_output=True, text=True, timeout=300, check=False, env=author,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr[-2000:]
    run = subprocess.run(
        [python, "-m", "pytest", "scenarios/acme_crm", "-p", "no:cacheprovider", "-q",
         "-rf", "--backend", "external", "--es-url", es_endpoint.url, "--subject", "inprocess"],
        cwd=project, capture_output=True, text=True, timeout=600, check=False,
        env=author | {"HARNESS_PG_DSN": pg_endpoint.dsn(), "COLUMNS": "400"},
    )  # fmt: skip
    summary = run.stdout.splitlines()[-1]
    assert run.returncode == 1 and " failed" in summary and "error" not in summary, (
        run.stdout[-3000:] + run.stderr[-2000:]
    )
    failures = [line for line in run.stdout.splitlines() if line.startswith("FAILED")]
    assert failures, run.stdout[-3000:]
    for line in failures:  # each names the next thing to write, in the fixture
        assert "to do: fixtures/acme_crm.py AcmeCrmFixture.load" in line, line
    assert "Traceback" not in run.stdout and sys.executable  # failures, not crashes
