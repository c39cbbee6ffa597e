"""The harness reads its environment in known places only: machine-level settings in
``harness/environment.py`` (at call time, never at import), run-level options in the two
options layers, and child processes' environments where they are built."""

from __future__ import annotations

import ast
import pathlib

from harness.environment import HarnessEnvironment

HARNESS = pathlib.Path(__file__).parents[2] / "harness"
# Each module that may touch os.environ, and why.
ALLOWED = {
    "environment.py": "the machine-level settings",
    "plugin/options.py": "run options: flag, then environment, then ini",
    "services/options.py": "service options: flag, then environment, then ini",
    "plugin/xdist.py": "hands the broker's state file to the workers it starts",
    "plugin/scenarios.py": "in-process subjects run in the connectors' zone (TZ)",
    "services/java.py": "the JVM's environment, built from ours",
    "services/postgres.py": "the server's environment, built from ours (PATH)",
    "services/elasticsearch.py": "the node's environment, built from ours (PATH)",
    "subjects/command.py": "a subject process's environment",
    "subjects/connectors_cli.py": "a subject process's environment",
    "subjects/inprocess.py": "what a connectors process would read, passed down",
    "subjects/elastic/subject.py": "their service's environment, without ours",
    "stress/command.py": "the suite's runs get the command's environment",
}


def test_only_known_modules_touch_the_environment() -> None:
    touching = set()
    for path in HARNESS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                touching.add(path.relative_to(HARNESS).as_posix())
    assert touching <= set(ALLOWED), sorted(touching - set(ALLOWED))


def test_no_module_reads_the_environment_at_import() -> None:
    """A module-level statement that reads os.environ would freeze it before a test or
    a command could set it."""
    for path in HARNESS.rglob("*.py"):
        for statement in ast.parse(path.read_text()).body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            for node in ast.walk(statement):
                if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                    raise AssertionError(f"{path}:{node.lineno} reads the environment at import")


def test_settings_are_read_when_asked_for(tmp_path: pathlib.Path) -> None:
    environment = HarnessEnvironment({"HARNESS_TMPDIR": str(tmp_path), "HARNESS_STATE_FILE": ""})
    assert environment.tmpdir == tmp_path
    assert environment.state_file is None, "empty counts as unset"
    assert HarnessEnvironment({}).connector_timezone == "Asia/Kathmandu"
    modules = HarnessEnvironment({"HARNESS_SERVICE_MODULES": " a.b , ,c "}).kind_modules
    assert modules == ["a.b", "c"]


def test_a_bad_job_timeout_is_named() -> None:
    import pytest

    with pytest.raises(ValueError, match="HARNESS_ELASTIC_JOB_TIMEOUT='soon'"):
        _ = HarnessEnvironment({"HARNESS_ELASTIC_JOB_TIMEOUT": "soon"}).elastic_job_timeout
    assert HarnessEnvironment({}).elastic_job_timeout == 600.0
