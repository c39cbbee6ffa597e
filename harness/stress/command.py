"""The ``harness stress`` command: its arguments, and the plan made from them."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from harness.stress.runner import StressPlan, run_cli


def cmd_stress(args: argparse.Namespace) -> int:
    pytest_args = args.pytest_args[1:] if args.pytest_args[:1] == ["--"] else args.pytest_args
    plan = StressPlan(
        pytest_args=pytest_args,
        runs=args.runs,
        hog_factor=args.hog,
        shuffle=not args.in_order,
        workers=args.workers,
        timezone=args.tz,
        keep=Path(args.keep),
        seed=args.seed,
        command=args.command,
        junit=args.junit,
    )
    return run_cli(plan, dict(os.environ))


def add_stress_command(sub: Any) -> None:
    stress = sub.add_parser(
        "stress",
        help="find flakes: run a suite N times under a CPU hog, in random order",
        description="Runs `pytest PYTEST_ARGS` --runs times while busy processes compete for "
        "the cores, each run in a new random order (pytest-randomly), and prints each test's "
        "failure rate. Exit 0: no failure in any run; 1: something failed; 2: bad input. "
        "Example: harness stress --runs 10 -- scenarios/postgres --reuse-services. "
        "With --command, runs a shell command instead (a CI script) and reads its JUnit "
        "files: harness stress --runs 3 --command 'bash .ci/run' --junit 'reports/junit*.xml'",
    )
    stress.add_argument("--runs", type=int, default=10)
    stress.add_argument(
        "--hog", type=float, default=2.0, help="busy processes per core (default 2; 0: none)"
    )
    stress.add_argument("--in-order", action="store_true", help="keep pytest's own order")
    stress.add_argument("--workers", type=int, default=0, help="run each time under xdist -n N")
    stress.add_argument("--tz", default=None, help="the zone runs and connectors run in")
    stress.add_argument("--seed", type=int, default=None, help="repeat a stress run's orders")
    stress.add_argument("--keep", default="stress-results", help="where outputs are kept")
    stress.add_argument(
        "--command", default=None, help="a shell command to run instead of pytest (a CI script)"
    )
    stress.add_argument(
        "--junit", default=None, help="with --command: the glob of the JUnit files it writes"
    )
    stress.add_argument("pytest_args", nargs=argparse.REMAINDER, help="-- then pytest's arguments")
    stress.set_defaults(func=cmd_stress)
