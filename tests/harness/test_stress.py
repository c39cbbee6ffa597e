"""`harness stress` runs a suite N times under a CPU hog in random orders, counts each
test's failures from pytest's own JUnit files, says how to replay a failing order, and
leaves no busy process behind."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

SAMPLE = """
import pytest


def test_steady():
    pass


class TestOrder:
    def test_fails_on_odd_seeds(self, request):
        seed = request.config.getoption("randomly_seed")
        assert seed % 2 == 0, f"odd seed {seed}"


def test_never_runs():
    pytest.skip("not here")
"""
FLAKY = "test_sample.py::TestOrder::test_fails_on_odd_seeds"
BUSY = "while True: pass"


def busy_processes(keep: Path) -> list[int]:
    """This stress run's hogs: another run's (the flake finder run by hand beside CI, a
    second job on the runner) carry their own keep directory."""
    found = []
    owner = f"harness-stress:{keep.resolve()}"
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if BUSY in cmdline and owner in cmdline:
                found.append(int(entry.name))
    return found


def stress(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "stress", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")},
    )


def test_failure_rates_replay_seeds_and_no_hog_left(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    keep = tmp_path / "keep"
    runs, seed = 4, 11
    options = ["--runs", str(runs), "--hog", "0.5", "--seed", str(seed), "--keep", str(keep)]
    done = stress(tmp_path, *options, "--", "test_sample.py", "-p", "no:connectors_harness")
    generator = random.Random(seed)
    seeds = [generator.randrange(2**31) for _ in range(runs)]
    odd = [s for s in seeds if s % 2]
    assert 0 < len(odd) < runs, f"the seed {seed} should give both kinds of run: {seeds}"
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads((keep / "stress.json").read_text())
    assert [run["seed"] for run in report["runs"]] == seeds
    flaky = report["tests"][FLAKY]
    assert (flaky["runs"], flaky["failed"]) == (runs, len(odd))
    assert all("odd seed" in message for message in flaky["messages"])
    assert report["tests"]["test_sample.py::test_steady"]["failed"] == 0
    assert report["tests"]["test_sample.py::test_never_runs"]["skipped"] == runs
    assert f"{runs - len(odd)} of {runs} runs passed" in done.stdout
    assert f"{len(odd)}/{runs}" in done.stdout and FLAKY in done.stdout
    assert f"--randomly-seed={odd[0]}" in done.stdout, "the first failing order's replay"
    assert report["plan"]["hogs"] == max(1, round(0.5 * (os.cpu_count() or 1)))
    assert sorted(p.name for p in keep.glob("run-*.xml")) == [f"run-{n}.xml" for n in range(1, 5)]
    assert not busy_processes(keep), "the hog outlived the stress run"


def test_in_order_runs_need_no_plugin_and_a_clean_suite_exits_0(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text("def test_ok():\n    pass\n")
    options = ["--runs", "2", "--hog", "0", "--in-order", "--keep", "k"]
    done = stress(tmp_path, *options, "--", "test_sample.py", "-p", "no:connectors_harness")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 of 2 runs passed" in done.stdout and "no test failed in any run" in done.stdout


def test_bad_input_is_refused_before_anything_runs(tmp_path: Path) -> None:
    done = stress(tmp_path, "--runs", "0", "--", "nothing.py")
    assert done.returncode == 2
    assert "--runs must be at least 1, not 0" in done.stderr
    assert not (tmp_path / "stress-results").exists()


COUNTED = """
from pathlib import Path


def test_fails_on_the_second_run():
    counter = Path("counter")
    runs = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(runs))
    assert runs != 2, "the second run"


def test_steady():
    pass
"""
STALE = """<testsuites><testsuite><testcase classname="test_old" name="test_gone">
<failure message="a previous run's">x</failure></testcase></testsuite></testsuites>"""


def test_a_command_runs_whole_and_its_junit_files_are_counted(tmp_path: Path) -> None:
    """A CI script under the hog: each run's JUnit files are read, a file older than the
    run (the previous CI's) is not, and a run that writes none but fails is a failure."""
    (tmp_path / "test_counted.py").write_text(COUNTED)
    (tmp_path / "reports").mkdir()
    stale = tmp_path / "reports" / "junit-old.xml"
    stale.write_text(STALE)
    os.utime(stale, (1_000_000_000, 1_000_000_000))
    pytest_run = (
        f"{sys.executable} -m pytest test_counted.py -q -p no:connectors_harness "
        "-p no:randomly --junitxml=reports/junit-main.xml"
    )
    command = f"{pytest_run} && test ! -e counter-stop || exit 7"
    options = ["--runs", "3", "--hog", "0.5", "--keep", "k", "--junit", "reports/junit*.xml"]
    done = stress(tmp_path, *options, "--command", command)
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads((tmp_path / "k" / "stress.json").read_text())
    assert [run["exit_code"] != 0 for run in report["runs"]] == [False, True, False]
    assert [run["seed"] for run in report["runs"]] == [None, None, None]
    tests = report["tests"]
    assert "test_old.py::test_gone" not in tests, "a file older than the run was counted"
    flaky = tests["test_counted.py::test_fails_on_the_second_run"]
    assert (flaky["runs"], flaky["failed"]) == (3, 1)
    assert "1 of 3 runs passed" not in done.stdout and "2 of 3 runs passed" in done.stdout
    assert "--randomly-seed" not in done.stdout, "a command has no order to replay"
    assert not busy_processes(tmp_path / "k")

    (tmp_path / "counter-stop").write_text("")
    options = ["--runs", "1", "--hog", "0", "--keep", "k2", "--junit", "nothing/*.xml"]
    done = stress(tmp_path, *options, "--command", command)
    report = json.loads((tmp_path / "k2" / "stress.json").read_text())
    assert report["runs"][0]["exit_code"] == 7
    assert report["tests"]["<the run itself>"]["failed"] == 1


def test_a_command_takes_no_pytest_arguments(tmp_path: Path) -> None:
    done = stress(tmp_path, "--command", "true", "--", "scenarios/postgres")
    assert done.returncode == 2
    assert "--command runs instead of pytest" in done.stderr
    done = stress(tmp_path, "--junit", "reports/*.xml", "--", "x.py")
    assert done.returncode == 2 and "pass --command too" in done.stderr
