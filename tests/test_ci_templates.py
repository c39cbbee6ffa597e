"""The CI templates users copy are valid and run what CI runs here: both validate against
the published schemas (vendored by check-jsonschema: no network), the workflow passes
actionlint, and the local-backend jobs run exactly .ci/run's commands."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "e2e.yml"
GITLAB = ROOT / ".gitlab-ci.yml"


@pytest.mark.parametrize(
    ("template", "schema"),
    [(WORKFLOW, "vendor.github-workflows"), (GITLAB, "vendor.gitlab-ci")],
    ids=["github", "gitlab"],
)
def test_the_template_validates_against_its_published_schema(template: Path, schema: str):
    done = subprocess.run(
        ["check-jsonschema", "--builtin-schema", schema, str(template)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_workflow_passes_actionlint():
    if shutil.which("actionlint") is None:
        pytest.skip(
            "actionlint is not installed: go install github.com/rhysd/actionlint/cmd/"
            "actionlint@v1.7.12 (.ci/run does so when Go is there)"
        )
    done = subprocess.run(
        ["actionlint", str(WORKFLOW)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _commands(script: str) -> list[str]:
    lines = [line.split("  #")[0].strip() for line in script.splitlines()]
    return [part.strip() for line in lines if line for part in line.split("&&")]


def test_the_local_jobs_run_exactly_what_ci_runs_here():
    ci = {line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()}
    github = yaml.safe_load(WORKFLOW.read_text())["jobs"]["e2e-local"]["steps"]
    gitlab = yaml.safe_load(GITLAB.read_text())["e2e-local"]["script"]
    ours = [c for step in github if "run" in step and "GITHUB_OUTPUT" not in step["run"]
            for c in _commands(step["run"])]  # fmt: skip
    theirs = [c for line in gitlab for c in _commands(line)]
    for commands in (ours, theirs):
        assert commands, "the e2e-local job runs nothing"
        assert [c for c in commands if c not in ci] == []
        assert "pytest -n 2 --dist loadgroup --junitxml=reports/junit.xml" in commands
        bench = "pytest tests/harness/test_bench_gating.py --junitxml=reports/junit-bench.xml"
        assert bench in commands, "the bench gate runs on its own, after the rest"


def test_a_pull_request_fails_through_bench_compare_and_the_default_branch_keeps_history():
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["benchmarks"]["steps"]
    by_name = {step.get("name", ""): step for step in steps}
    gate = next(s for n, s in by_name.items() if "regression" in n)
    assert gate["if"] == "github.event_name == 'pull_request'"
    assert "harness bench compare" in gate["run"]
    keep = next(s for n, s in by_name.items() if n.startswith("Save the history"))
    assert keep["if"] == "github.event_name == 'push'"
