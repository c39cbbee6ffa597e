"""How often `harness bench compare` is wrong on this machine, on each basis: its
false-positive rate over pairs of runs of unchanged code, and its false-negative rate over
pairs whose second run is slowed by the test-only switch (tests/bench_slowdown: every full
sync costs twice its CPU and takes twice its time). The same benchmark runs and threshold
as tests/harness/test_bench_gating.py, on one set of services of its own, runs interleaved
(U0 S1 U1 S2 U2 ...) so that a drift in the machine's speed falls on both kinds alike.
For the record, not a test.

    PYTHONPATH=. python scripts/measure_bench_gate.py --pairs 20 --out /tmp/gate
    PYTHONPATH=. python scripts/measure_bench_gate.py --pairs 20 --out /tmp/gate --resume
    harness stress ... & PYTHONPATH=. python scripts/measure_bench_gate.py ...  # under load
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path

from harness.bench.compare import compare_runs
from harness.bench.results import load
from harness.services.provider import shutdown_recorded
from tests.harness.bench_gate import ROOT, SLOWED, SLOWED_METRICS, THRESHOLD, bench_argv


def bench_run(out: Path, extra: dict[str, str]) -> float:
    env = dict(os.environ, **extra)
    if "PYTHONPATH" in extra and os.environ.get("PYTHONPATH"):  # the checkout it runs from
        env["PYTHONPATH"] = extra["PYTHONPATH"] + os.pathsep + os.environ["PYTHONPATH"]
    started = time.monotonic()
    done = subprocess.run(
        bench_argv(out),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{out.name}: the benchmark run failed\n{done.stdout[-3000:]}")
    return time.monotonic() - started


def report(basis: str, metric: str, unmodified: list[Path], slowed: list[Path]) -> None:
    """Each pair's verdicts on one basis, then the two rates."""
    false_positive = false_negative = 0
    print(f"\nbasis {basis}\n{'pair':<6} {'unchanged: flagged':<44} slowed: full sync")
    for i in range(1, len(unmodified)):
        base = load(unmodified[i - 1])
        same = compare_runs(base, load(unmodified[i]), threshold=THRESHOLD, basis=basis)
        slow = compare_runs(base, load(slowed[i - 1]), threshold=THRESHOLD, basis=basis)
        caught = any(r.startswith(metric) for r in slow.regressions)
        verdict = next(v for v in slow.verdicts if v.metric == metric)
        false_positive += same.regressed
        false_negative += not caught
        flagged = "; ".join(r.split(":")[0] for r in same.regressions) or "-"
        print(
            f"{i:<6} {flagged:<44} {verdict.ratio:.3f} p={verdict.p_value:.3g} "
            f"{'flagged' if caught else 'MISSED'}"
        )
    pairs = len(unmodified) - 1
    print(
        f"{basis}: false positives {false_positive}/{pairs}, "
        f"false negatives {false_negative}/{pairs}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--resume", action="store_true", help="keep the runs already in --out; run the rest"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["HARNESS_STATE_FILE"] = str(args.out / "services.json")
    unmodified: list[Path] = []
    slowed: list[Path] = []
    try:
        for i in range(args.pairs + 1):
            if i:
                slowed.append(args.out / f"slowed-{i}.json")
                if not (args.resume and slowed[-1].exists()):
                    took = bench_run(slowed[-1], SLOWED)
                    print(f"slowed-{i}: {took:.0f} s", flush=True)
            unmodified.append(args.out / f"unmodified-{i}.json")
            if not (args.resume and unmodified[-1].exists()):
                took = bench_run(unmodified[-1], {})
                print(f"unmodified-{i}: {took:.0f} s", flush=True)
    finally:
        shutdown_recorded()
    for basis, metric in SLOWED_METRICS.items():
        report(basis, metric, unmodified, slowed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
