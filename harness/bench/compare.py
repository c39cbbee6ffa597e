"""``harness bench compare BASE NEW``: exit 0 when no benchmark regressed, 1 when one did,
2 when the inputs cannot be compared."""

from __future__ import annotations

from dataclasses import dataclass

from harness.bench.results import BenchResult, RunResults
from harness.bench.stats import Verdict, compare

MEMORY_METRIC = "peak_rss_mb"


# What a benchmark is judged on. "ceiling" (the default): throughput relative to a raw
# round of the same kind of work just before it, which also sees waiting (lost
# concurrency, extra round trips); its rounds scatter under load, and the significance
# test keeps that scatter from being flagged. "cpu": documents per CPU-second of the
# sync, tight within a run but shifted whole runs at a time by contention for the cores:
# 2 false alarms in 12 pairs at 15% under a CPU hog, against none for the ceiling
# (scripts/measure_bench_gate.py).
BASES = {"cpu": "docs_per_cpu_second", "ceiling": "ratio_to_ceiling"}
ENOUGH = 3  # samples each side


@dataclass
class Comparison:
    verdicts: list[Verdict]
    memory: list[str]
    regressions: list[str]

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)


def judged_metric(base: BenchResult, new: BenchResult, basis: str) -> tuple[str, str | None]:
    """The metric both runs can be judged on, and a note when it is not the one asked for
    (results from before a metric existed)."""
    wanted = BASES[basis]
    candidates = dict.fromkeys((wanted, *BASES.values(), "docs_per_second"))
    usable = [m for m in candidates if _both_have(base, new, m)]
    why = f"no {wanted} in both runs"
    kinds = (base.info.get("ceiling", "bulk"), new.info.get("ceiling", "bulk"))
    if "ratio_to_ceiling" in usable and kinds[0] != kinds[1]:
        usable.remove("ratio_to_ceiling")  # a ratio to writes and one to reads differ
        if wanted == "ratio_to_ceiling":
            why = f"ceilings differ ({kinds[0]} -> {kinds[1]})"
    if usable and usable[0] == wanted:
        return wanted, None
    metric = usable[0] if usable else "docs_per_second"
    return metric, f"{base.name}: {why}, judged on {metric}; re-run the base to compare"


def _both_have(base: BenchResult, new: BenchResult, metric: str) -> bool:
    return all(
        len(r.metrics.get(metric, [])) >= ENOUGH and all(r.metrics[metric]) for r in (base, new)
    )


def compare_runs(
    base: RunResults,
    new: RunResults,
    threshold: float = 0.15,
    alpha: float = 0.05,
    memory_threshold: float = 0.20,
    min_seconds: float = 0.25,
    basis: str = "ceiling",
) -> Comparison:
    """Benchmarks whose rounds take under ``min_seconds`` (median, both runs) are shown but
    not judged: fixed per-sync costs (connecting, planning, refreshing) dominate them and
    vary from run to run more than any within-run statistic can see."""
    if basis not in BASES:
        raise ValueError(f"--basis must be one of {', '.join(BASES)}, not {basis!r}")
    common = sorted(set(base.benchmarks) & set(new.benchmarks))
    if not common:
        raise ValueError(f"{base.path} and {new.path} share no benchmark")
    verdicts, memory, regressions, notes = [], [], [], []
    for name in common:
        b, n = base.benchmarks[name], new.benchmarks[name]
        metric, note = judged_metric(b, n, basis)
        if note:
            notes.append(note)
        verdict = compare(
            f"{name} {metric}",
            b.metrics.get(metric, []),
            n.metrics.get(metric, []),
            threshold,
            alpha,
        )
        verdicts.append(verdict)
        short = min(b.median("engine_seconds") or 0, n.median("engine_seconds") or 0)
        if short and short < min_seconds:
            notes.append(
                f"{name}: rounds of {short * 1000:.0f} ms are too short to judge "
                f"(< {min_seconds * 1000:.0f} ms); use a larger corpus"
            )
        elif verdict.regression:
            regressions.append(verdict.describe())
        before, after = b.median(MEMORY_METRIC), n.median(MEMORY_METRIC)
        if before and after:
            line = f"{name} peak RSS: {before:.0f} MB -> {after:.0f} MB"
            if after > before * (1 + memory_threshold):
                line += f" REGRESSION (more than +{memory_threshold:.0%})"
                regressions.append(line)
            memory.append(line)
    return Comparison(verdicts, memory + notes, regressions)


def render(result: Comparison, base: RunResults, new: RunResults) -> str:
    lines = [
        f"base: {base.path} ({base.commit} {base.datetime})",
        f"new:  {new.path} ({new.commit} {new.datetime})",
        "",
    ]
    lines += [v.describe() for v in result.verdicts]
    lines += result.memory
    lines.append("")
    lines.append(
        f"{len(result.regressions)} regression(s)" if result.regressed else "no regression"
    )
    return "\n".join(lines)
