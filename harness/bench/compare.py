"""``harness bench compare BASE NEW``: exit 0 when no benchmark regressed, 1 when one did,
2 when the inputs cannot be compared."""

from __future__ import annotations

from dataclasses import dataclass

from harness.bench.results import RunResults
from harness.bench.stats import Verdict, compare

MEMORY_METRIC = "peak_rss_mb"


@dataclass
class Comparison:
    verdicts: list[Verdict]
    memory: list[str]
    regressions: list[str]

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)


def compare_runs(
    base: RunResults,
    new: RunResults,
    threshold: float = 0.15,
    alpha: float = 0.05,
    memory_threshold: float = 0.20,
    min_seconds: float = 0.25,
) -> Comparison:
    """Benchmarks whose rounds take under ``min_seconds`` (median, both runs) are shown but
    not judged: fixed per-sync costs (connecting, planning, refreshing) dominate them and
    vary from run to run more than any within-run statistic can see."""
    common = sorted(set(base.benchmarks) & set(new.benchmarks))
    if not common:
        raise ValueError(f"{base.path} and {new.path} share no benchmark")
    verdicts, memory, regressions, notes = [], [], [], []
    for name in common:
        b, n = base.benchmarks[name], new.benchmarks[name]
        metric = b.primary() if b.primary() == n.primary() else "docs_per_second"
        kinds = (b.info.get("ceiling", "bulk"), n.info.get("ceiling", "bulk"))
        if metric == "ratio_to_ceiling" and kinds[0] != kinds[1]:
            # A ratio to a write ceiling and one to a read ceiling are not the same number:
            # results from before the unchanged re-sync had its own kind of ceiling.
            metric = "docs_per_second"
            notes.append(
                f"{name}: ceilings differ ({kinds[0]} -> {kinds[1]}), judged on docs/s, "
                "which a loaded machine moves; re-run the base to compare ratios"
            )
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
