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
