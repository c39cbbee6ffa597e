"""`compare_runs` judges a benchmark on its ratio to the ceiling only when both runs
divided by the same kind of ceiling."""

from __future__ import annotations

from pathlib import Path

from harness.bench.compare import compare_runs
from harness.bench.results import BenchResult, RunResults

NAME = "test_bench_unchanged_resync"


def run(ratio: float, rate: float, ceiling: str) -> RunResults:
    wobble = [1.0, 1.01, 0.99, 1.02, 0.98]
    metrics = {
        "ratio_to_ceiling": [ratio * w for w in wobble],
        "docs_per_second": [rate * w for w in wobble],
        "engine_seconds": [1.0] * 5,
    }
    bench = BenchResult(NAME, metrics, {"ceiling": ceiling})
    return RunResults(Path(f"{ceiling}.json"), "", "abc", {NAME: bench})


def test_a_ratio_halved_against_the_same_kind_of_ceiling_is_a_regression():
    result = compare_runs(run(4.5, 9000, "scan"), run(2.3, 9000, "scan"))
    assert result.regressions and "ratio_to_ceiling" in result.regressions[0]


def test_ratios_to_different_kinds_of_ceiling_are_not_compared():
    result = compare_runs(run(4.5, 9000, "bulk"), run(2.3, 9000, "scan"))
    assert not result.regressed
    assert result.verdicts[0].metric == f"{NAME} docs_per_second"
    assert any("ceilings differ (bulk -> scan)" in line for line in result.memory)


def test_results_without_a_ceiling_kind_are_bulk():
    base = run(4.5, 9000, "bulk")
    base.benchmarks[NAME].info.clear()
    result = compare_runs(base, run(2.3, 9000, "bulk"))
    assert result.regressed
