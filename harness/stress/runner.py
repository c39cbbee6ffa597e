"""``harness stress``: the same suite N times under a CPU hog, in random order (and, if
asked, under xdist and in another zone), then each test's failure rate.

A flake is a bug: this finds them where they live (a loaded runner, an order nobody
wrote), and keeps what is needed to find their cause: each run's JUnit XML and full
output, each failure's message (with the service log tails the scenarios attach), and
each run's order seed, so a failing order can be replayed exactly.

With ``command`` it runs a whole command instead of pytest (a CI script, say), and reads
each test's outcome from the JUnit files the command writes (``junit``, a glob): a CI
that is green on a quiet machine but red under load is a flake like any other."""

from __future__ import annotations

import glob
import importlib.util
import json
import random
import shutil
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.atomic import write_atomic
from harness.stress.hog import cpu_hog, hog_count
from harness.stress.junit import FAILED, SKIPPED, Outcome, outcomes
from harness.subjects.processes import run_guarded

RUN_TIMEOUT_SECONDS = 3 * 3600


class StressError(ValueError):
    """The stress run cannot start as asked."""


@dataclass(frozen=True)
class StressPlan:
    pytest_args: list[str]
    runs: int = 10
    hog_factor: float = 2.0  # busy processes per core
    shuffle: bool = True
    workers: int = 0  # xdist -n; 0: none
    timezone: str | None = None
    keep: Path = Path("stress-results")
    seed: int | None = None  # of the runs' order seeds: the same seed, the same orders
    command: str | None = None  # a shell command run instead of pytest
    junit: str | None = None  # with command: the glob of the JUnit files it writes

    def check(self) -> None:
        if self.runs < 1:
            raise StressError(f"--runs must be at least 1, not {self.runs}")
        if self.hog_factor < 0:
            raise StressError(
                f"--hog must be 0 or more busy processes per core, not {self.hog_factor}"
            )
        if self.command is not None:
            self._check_command()
            return
        if self.junit is not None:
            raise StressError("--junit names what a --command writes; pass --command too")
        if self.shuffle and importlib.util.find_spec("pytest_randomly") is None:
            raise StressError(
                "random order needs pytest-randomly: pip install 'connectors-harness[stress]' "
                "(or pass --in-order)"
            )
        if self.workers and importlib.util.find_spec("xdist") is None:
            raise StressError("--workers needs pytest-xdist: pip install pytest-xdist")

    def _check_command(self) -> None:
        """A command runs as given: its order, workers and pytest arguments are its own."""
        if not (self.command or "").strip():
            raise StressError("--command is empty: give the shell command to run each time")
        if self.pytest_args:
            raise StressError(
                f"--command runs instead of pytest; drop the pytest arguments "
                f"{' '.join(self.pytest_args)!r} or put them in the command"
            )
        if self.workers:
            raise StressError("--workers is pytest's -n; with --command, put -n in the command")


@dataclass
class RunRecord:
    number: int
    seed: int | None
    exit_code: int
    seconds: float
    failed: list[str] = field(default_factory=list)


@dataclass
class TestRecord:
    runs: int = 0
    failed: int = 0
    skipped: int = 0
    messages: list[str] = field(default_factory=list)  # one per failing run, with its number


def argv_of(plan: StressPlan, number: int, seed: int | None) -> list[str]:
    argv = [sys.executable, "-m", "pytest", *plan.pytest_args, "-q", "-p", "no:cacheprovider"]
    argv.append(f"--junitxml={plan.keep / f'run-{number}.xml'}")
    if seed is not None:
        argv += ["-p", "randomly", f"--randomly-seed={seed}"]
    if plan.workers:
        argv += ["-n", str(plan.workers)]
    return argv


def stress(
    plan: StressPlan, environ: dict[str, str], say: Callable[[str], None] = print
) -> dict[str, object]:
    """Run the plan; return (and write to ``keep/stress.json``) every run and every test."""
    plan.check()
    plan.keep.mkdir(parents=True, exist_ok=True)
    env = dict(environ)
    if plan.timezone:
        env["TZ"] = env["HARNESS_CONNECTOR_TZ"] = plan.timezone
    seeds = random.Random(plan.seed)
    runs: list[RunRecord] = []
    tests: dict[str, TestRecord] = defaultdict(TestRecord)
    with cpu_hog(hog_count(plan.hog_factor), owner=f"harness-stress:{plan.keep.resolve()}") as hogs:
        say(f"stress: {plan.runs} runs, {len(hogs)} busy processes, keep {plan.keep}")
        for number in range(1, plan.runs + 1):
            seed = seeds.randrange(2**31) if plan.shuffle and not plan.command else None
            record = _one_run(plan, number, seed, env, tests)
            runs.append(record)
            verdict = "ok" if record.exit_code == 0 else f"exit {record.exit_code}"
            failing = f"; failed: {', '.join(record.failed)}" if record.failed else ""
            took = f"{record.seconds:.0f}s"
            say(f"run {number}/{plan.runs} (seed {seed}): {verdict} in {took}{failing}")
            report = _write_report(plan, runs, tests)  # after each run: a stopped stress
    say(table(runs, tests, plan))  # run keeps what it measured
    return report


def _write_report(
    plan: StressPlan, runs: list[RunRecord], tests: dict[str, TestRecord]
) -> dict[str, object]:
    report: dict[str, object] = {
        "plan": asdict(plan) | {"keep": str(plan.keep), "hogs": hog_count(plan.hog_factor)},
        "runs": [asdict(run) for run in runs],
        "tests": {name: asdict(test) for name, test in sorted(tests.items())},
    }
    write_atomic(plan.keep / "stress.json", json.dumps(report, indent=2))
    return report


def _one_run(
    plan: StressPlan, number: int, seed: int | None, env: dict[str, str],
    tests: dict[str, TestRecord],
) -> RunRecord:  # fmt: skip
    started, wall = time.monotonic(), time.time()
    argv = ["bash", "-c", plan.command] if plan.command else argv_of(plan, number, seed)
    done = run_guarded(argv, timeout=RUN_TIMEOUT_SECONDS, env=env, text=True)
    seconds = time.monotonic() - started
    (plan.keep / f"run-{number}.log").write_text(done.stdout + done.stderr)
    if plan.command:
        found = [o for path in _junit_written(plan, number, wall) for o in outcomes(path)]
    else:
        found = outcomes(plan.keep / f"run-{number}.xml")
    record = RunRecord(number, seed, done.returncode, seconds)
    if not found and done.returncode != 0:  # killed, or never collected: the run failed
        found = [Outcome("<the run itself>", FAILED, (done.stdout + done.stderr)[-3000:])]
    for outcome in found:
        test = tests[outcome.test]
        test.runs += 1
        if outcome.result == SKIPPED:
            test.skipped += 1
        elif outcome.result == FAILED:
            test.failed += 1
            test.messages.append(f"run {number} (seed {seed}): {outcome.message[:4000]}")
            record.failed.append(outcome.test)
    return record


def _junit_written(plan: StressPlan, number: int, since: float) -> list[Path]:
    """The JUnit files this run of the command wrote, copied into ``keep`` (the next run
    overwrites them). A file older than the run is a previous run's and is not counted."""
    kept = []
    for i, name in enumerate(sorted(glob.glob(plan.junit or "", recursive=True))):
        path = Path(name)
        if path.stat().st_mtime < since:
            continue
        copy = plan.keep / f"run-{number}-{i}-{path.name}"
        shutil.copyfile(path, copy)
        kept.append(copy)
    return kept


def table(runs: list[RunRecord], tests: dict[str, TestRecord], plan: StressPlan) -> str:
    """Failing tests first, by rate; then the totals, and how to replay a failing order."""
    clean = sum(1 for run in runs if run.exit_code == 0)
    lines = [f"{clean} of {len(runs)} runs passed; {len(tests)} tests"]
    flaky = sorted(
        ((name, test) for name, test in tests.items() if test.failed),
        key=lambda item: (-item[1].failed / item[1].runs, item[0]),
    )
    if not flaky:
        lines.append("no test failed in any run")
    else:
        lines.append(f"{'failed':>8}  {'rate':>5}  test")
        for name, test in flaky:
            rate = test.failed / test.runs
            lines.append(f"{test.failed:>3}/{test.runs:<4}  {rate:>5.0%}  {name}")
            first = test.messages[0].splitlines()
            lines.append(f"{'':17}{first[0][:160] if first else ''}")
        seeded = next((run for run in runs if run.failed and run.seed is not None), None)
        if seeded is not None and not plan.command:
            replay = " ".join(plan.pytest_args)
            lines.append(
                f"replay run {seeded.number}'s order: pytest {replay} -p randomly "
                f"--randomly-seed={seeded.seed}"
            )
    lines.append(f"messages, outputs and JUnit files: {plan.keep}/")
    return "\n".join(lines)


def run_cli(plan: StressPlan, environ: dict[str, str]) -> int:
    """0: every test passed in every run; 1: something failed; 2: bad input."""
    try:
        report = stress(plan, environ)
    except StressError as exc:
        print(f"harness stress: {exc}", file=sys.stderr)
        return 2
    runs: list[dict[str, object]] = report["runs"]  # type: ignore[assignment]
    return 1 if any(run["exit_code"] != 0 for run in runs) else 0
