"""`compare_runs` judges each benchmark on the basis asked for (the ratio to a ceiling of
the same kind, or CPU per document), and says so when the runs cannot be judged on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.bench.compare import compare_runs
from harness.bench.results import BenchResult, RunResults

NAME = "test_bench_unchanged_resync"
WOBBLE = [1.0, 1.01, 0.99, 1.02, 0.98]


def run(ratio: float, per_cpu: float | None, ceiling: str | None = "scan") -> RunResults:
    metrics = {
        "ratio_to_ceiling": [ratio * w for w in WOBBLE],
        "docs_per_second": [9000 * w for w in WOBBLE],
        "engine_seconds": [1.0] * 5,
    }
    if per_cpu is not None:
        metrics["docs_per_cpu_second"] = [per_cpu * w for w in WOBBLE]
    info = {"ceiling": ceiling} if ceiling else {}
    bench = BenchResult(NAME, metrics, info)
    return RunResults(Path("run.json"), "", "abc", {NAME: bench})


def test_by_default_a_halved_ratio_to_the_same_kind_of_ceiling_is_a_regression():
    result = compare_runs(run(4.5, 20000), run(2.3, 20000))
    assert result.regressions and "ratio_to_ceiling" in result.regressions[0]


def test_on_the_cpu_basis_twice_the_cpu_per_document_is_a_regression():
    result = compare_runs(run(4.5, 20000), run(4.5, 10000), basis="cpu")
    assert result.regressions and "docs_per_cpu_second" in result.regressions[0]


def test_on_the_cpu_basis_a_ratio_the_load_moved_is_not_judged():
    result = compare_runs(run(4.5, 20000), run(2.3, 19500), basis="cpu")
    assert not result.regressed
    assert result.verdicts[0].metric == f"{NAME} docs_per_cpu_second"


def test_ratios_to_different_kinds_of_ceiling_are_not_compared():
    result = compare_runs(run(4.5, None, "bulk"), run(2.3, None, "scan"), basis="ceiling")
    assert not result.regressed
    assert result.verdicts[0].metric == f"{NAME} docs_per_second"
    assert any("ceilings differ (bulk -> scan)" in line for line in result.memory)


def test_results_from_before_cpu_was_measured_fall_back_and_say_so():
    result = compare_runs(run(4.5, None, None), run(2.3, 20000, None), basis="cpu")
    assert result.regressed  # judged on the ratio, both bulk (no kind recorded)
    assert any("no docs_per_cpu_second in both runs" in line for line in result.memory)


def test_an_unknown_basis_is_refused():
    with pytest.raises(ValueError, match="--basis must be one of cpu, ceiling"):
        compare_runs(run(1, 1), run(1, 1), basis="wall")
