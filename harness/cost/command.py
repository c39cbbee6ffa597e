"""The ``harness cost`` command: run pytest once and print its CPU per process group."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.atomic import write_atomic
from harness.cost.meter import CostReport, measure


def table(report: CostReport) -> str:
    rows = [f"{'group':<28} {'processes':>9} {'CPU s':>9} {'share':>6}"]
    whole = report.total_seconds or 1.0
    for group, seconds in report.groups.items():
        count = report.processes.get(group, 0)
        rows.append(f"{group:<28} {count:>9} {seconds:>9.1f} {seconds / whole:>6.1%}")
    rest = report.total_seconds - report.attributed_seconds
    rows.append(f"{'(not attributed)':<28} {'':>9} {rest:>9.1f} {rest / whole:>6.1%}")
    rows.append(f"{'total (kernel)':<28} {'':>9} {report.total_seconds:>9.1f}")
    rows.append(
        f"wall {report.wall_seconds:.1f} s, exit {report.exit_code}; "
        f"the meter itself used {report.meter_seconds:.1f} s (not counted)"
    )
    return "\n".join(rows)


def cmd_cost(args: argparse.Namespace) -> int:
    pytest_args = args.pytest_args[1:] if args.pytest_args[:1] == ["--"] else args.pytest_args
    if not 0.01 <= args.interval <= 10:
        say = f"harness cost: --interval {args.interval} must be 0.01 to 10 seconds"
        print(say, file=sys.stderr)
        return 2
    report = measure([sys.executable, "-m", "pytest", *pytest_args], interval=args.interval)
    print(table(report))
    if args.json:
        write_atomic(Path(args.json), json.dumps(asdict(report), indent=2))
    return report.exit_code


def add_cost_command(sub: Any) -> None:
    cost = sub.add_parser(
        "cost",
        help="run pytest once and print the CPU seconds of each process group",
        description="Runs `python -m pytest PYTEST_ARGS` and prints the CPU it cost, split by "
        "process group: Elasticsearch, each source's server, the connectors processes, "
        "pytest, the harness's helpers. The total is the kernel's (every descendant); the "
        "split is sampled from /proc. Exit code: pytest's. "
        "Example: harness cost --json cost.json -- scenarios/postgres",
    )
    cost.add_argument("--json", default=None, help="also write the report here")
    cost.add_argument("--interval", type=float, default=0.2, help="seconds between samples")
    cost.add_argument("pytest_args", nargs=argparse.REMAINDER, help="-- then pytest's arguments")
    cost.set_defaults(func=cmd_cost)
