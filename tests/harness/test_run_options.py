"""The run's settings come from the command line, else from [tool.pytest.ini_options],
else from their defaults; a bad value is refused naming where it came from; and pytest's
help lists them all in the harness's one group."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from xml.etree import ElementTree

import pytest

from harness.plugin.options import SETTINGS, RunOptions

ROOT = Path(__file__).resolve().parents[2]


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


def resolve(option: dict[str, object], ini: dict[str, str]) -> RunOptions:
    return RunOptions.resolve(option.get, lambda key: ini.get(key), env={})


def test_every_setting_is_a_field_and_has_an_ini_key():
    assert [f.name for f in fields(RunOptions)] == [s.name for s in SETTINGS]
    assert all(s.ini == f"harness_{s.name}" for s in SETTINGS)


def test_the_command_line_wins_over_the_ini_file_which_wins_over_the_default():
    ini = {"harness_corpus_size": "tiny", "harness_seed": "7", "harness_bench": "true"}
    chosen = resolve({"corpus_size": "medium"}, ini)
    assert (chosen.corpus_size, chosen.seed, chosen.bench) == ("medium", 7, True)
    assert (chosen.subject, chosen.faults, chosen.bench_rounds) == ("cli", "tiny", 5)
    assert chosen.backend == "auto"


def test_the_environment_comes_between_the_command_line_and_the_ini_file():
    ini = {"harness_subject": "inprocess", "harness_seed": "7"}
    chosen = RunOptions.resolve({"seed": 9}.get, ini.get, env={"HARNESS_SUBJECT": "cli",
                                                              "HARNESS_SEED": "8"})  # fmt: skip
    assert (chosen.subject, chosen.seed) == ("cli", 9)
    with pytest.raises(pytest.UsageError, match=r"\$HARNESS_CORPUS_SIZE = 'xl'"):
        RunOptions.resolve({}.get, ini.get, env={"HARNESS_CORPUS_SIZE": "xl"})


@pytest.mark.parametrize(
    ("ini", "named"),
    [
        ({"harness_corpus_size": "huge"}, "harness_corpus_size (ini file) = 'huge': choose one of"),
        ({"harness_seed": "seven"}, "harness_seed (ini file) = 'seven' is not a valid seed"),
        ({"harness_bench_rounds": "2"}, "must be >= 3"),
        ({"harness_backend": "k8s"}, "choose one of auto, local, docker, external"),
    ],
)
def test_a_bad_ini_value_is_refused_naming_its_key(ini, named):
    with pytest.raises(pytest.UsageError, match=None) as refused:
        resolve({}, ini)
    assert named in str(refused.value)


def test_pytest_reads_the_settings_from_the_projects_ini_and_lists_them(tmp_path: Path):
    """A real pytest run in a project whose pyproject.toml sets two of them."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nharness_corpus_size = "tiny"\nharness_seed = "11"\n'
    )
    (tmp_path / "test_probe.py").write_text(
        "def test_probe(corpus_size, corpus_seed):\n"
        "    assert (corpus_size, corpus_seed) == ('tiny', 11)\n"
    )
    done = run_pytest(tmp_path, "test_probe.py")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    overridden = run_pytest(tmp_path, "test_probe.py", "--seed", "12")
    assert overridden.returncode == 1 and "12" in overridden.stdout
    bad = run_pytest(tmp_path, "test_probe.py", "-o", "harness_faults=big")
    assert bad.returncode == 4 and "harness_faults (ini file) = 'big'" in bad.stderr
    shown = run_pytest(tmp_path, "--help").stdout
    group = shown.split("search connectors E2E harness:")[1].split("\n\n")[0]
    for setting in SETTINGS:
        assert all(part in group for part in (setting.flags[0], setting.ini, setting.env))


def test_junit_xml_carries_the_sync_table_as_suite_properties(tmp_path: Path):
    (tmp_path / "test_probe.py").write_text(
        "def test_probe(record_property):\n"
        "    record_property('scenario_syncs', [('pg-full_sync', 'full', 10007, 0.5)])\n"
    )
    xml = tmp_path / "junit.xml"
    done = run_pytest(tmp_path, "test_probe.py", f"--junitxml={xml}", "--subject", "inprocess")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    suite = ElementTree.parse(xml).getroot().find("testsuite")
    assert suite is not None
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["harness_subject"] == "inprocess"
    assert properties["harness_sync_001"] == (
        "scenario=pg-full_sync mode=full docs=10007 seconds=0.50 docs_per_second=20014"
    )
