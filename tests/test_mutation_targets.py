"""The mutation targets name files that exist, and each target's copy gets exactly one
[tool.mutmut] table, the target's: a stale or doubled table would mutate the wrong modules
and report a score for code nobody meant to test."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _workdir_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "mutation_workdir", ROOT / "scripts" / "mutation_workdir.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


WORKDIR = _workdir_module()
TARGETS = [name for name in WORKDIR.targets() if name != "common"]


def test_every_runtime_area_the_issue_names_has_a_target() -> None:
    assert set(TARGETS) >= {"postgresql", "mysql", "s3", "confluence", "rules", "workers"}


@pytest.mark.parametrize("target", TARGETS)
def test_a_target_table_parses_and_names_its_own_modules(target: str) -> None:
    table = tomllib.loads(WORKDIR.mutmut_table(target))["tool"]["mutmut"]
    chosen = WORKDIR.targets()[target]
    assert table["only_mutate"] == chosen["mutate"]
    assert table["pytest_add_cli_args_test_selection"] == chosen["tests"]
    assert "--subject" in table["pytest_add_cli_args"]  # mutants live in the test process
    assert table["pytest_add_cli_args"][table["pytest_add_cli_args"].index("--subject") + 1] == (
        "inprocess"
    )


def test_the_copy_replaces_any_table_it_finds() -> None:
    text = (
        '[project]\nname = "x"\n\n[tool.mutmut]\nonly_mutate = ["old.py"]\n\n[tool.other]\na = 1\n'
    )
    stripped = WORKDIR.MUTMUT_TABLE.sub("", text)
    assert "old.py" not in stripped and "[tool.other]" in stripped and "[project]" in stripped
    merged = tomllib.loads(stripped + "\n" + WORKDIR.mutmut_table("mysql"))
    assert merged["tool"]["mutmut"]["only_mutate"][0].startswith("connectors/sources/mysql/")
    assert merged["tool"]["other"] == {"a": 1}


def test_an_unknown_target_names_the_known_ones() -> None:
    with pytest.raises(SystemExit, match="the targets are: postgresql, mysql"):
        WORKDIR.prepare("mongodb")
