"""Benchmark results: pytest-benchmark's JSON (``--benchmark-json`` / ``--benchmark-autosave``)
with our own metrics in each benchmark's ``extra_info``."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ResultsError(ValueError):
    pass


@dataclass(frozen=True)
class BenchResult:
    name: str
    metrics: dict[str, list[float]]
    info: dict[str, Any]

    def median(self, metric: str) -> float | None:
        values = self.metrics.get(metric)
        return statistics.median(values) if values else None


@dataclass(frozen=True)
class RunResults:
    path: Path
    datetime: str
    commit: str
    benchmarks: dict[str, BenchResult]


def load(path: str | Path) -> RunResults:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ResultsError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError:
        raise ResultsError(f"{path} is not JSON") from None
    if "benchmarks" not in data:
        raise ResultsError(f"{path} is not a pytest-benchmark result file (no 'benchmarks')")
    benchmarks = {}
    for bench in data["benchmarks"]:
        extra = bench.get("extra_info", {})
        metrics = {
            k: [float(x) for x in v]
            for k, v in extra.items()
            if isinstance(v, list) and v and all(isinstance(x, (int, float)) for x in v)
        }
        metrics.setdefault("seconds", [float(x) for x in bench.get("stats", {}).get("data", [])])
        info = {k: v for k, v in extra.items() if k not in metrics}
        benchmarks[bench["name"]] = BenchResult(bench["name"], metrics, info)
    commit = (data.get("commit_info") or {}).get("id") or "?"
    return RunResults(path, data.get("datetime", ""), str(commit)[:12], benchmarks)
