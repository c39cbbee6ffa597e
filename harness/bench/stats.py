"""A noise-aware comparison of two sets of benchmark samples.

A regression is declared only when it is both *significant* (one-sided Mann-Whitney U test
on the samples) and *material* (the median moved beyond a threshold, and the bootstrap
confidence interval of the ratio of medians lies entirely below 1). Noisy shared machines
then produce neither false alarms on unchanged code nor silence on real slowdowns.
"""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass
from itertools import combinations


def mann_whitney_less(a: list[float], b: list[float]) -> float:
    """P-value for "values in ``b`` tend to be smaller than in ``a``" (one-sided).

    Exact permutation distribution of U for small samples (as here: 5-20 rounds), normal
    approximation with tie correction beyond that."""
    n, m = len(a), len(b)
    if not n or not m:
        return 1.0
    pooled = a + b
    ranks = _ranks(pooled)
    u_b = sum(ranks[n:]) - m * (m + 1) / 2  # small when b's values are low
    if math.comb(n + m, m) <= 200_000:
        count = total = 0
        for chosen in combinations(range(n + m), m):
            total += 1
            if sum(ranks[i] for i in chosen) - m * (m + 1) / 2 <= u_b + 1e-9:
                count += 1
        return count / total
    mean = n * m / 2
    ties = _tie_term(pooled)
    sd = math.sqrt(n * m / 12 * ((n + m + 1) - ties / ((n + m) * (n + m - 1))))
    z = (u_b - mean + 0.5) / sd if sd else 0.0
    return 0.5 * math.erfc(-z / math.sqrt(2))


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _tie_term(values: list[float]) -> float:
    counts: dict[float, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return sum(t**3 - t for t in counts.values())


def bootstrap_ratio_ci(
    base: list[float],
    new: list[float],
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 1,
) -> tuple[float, float]:
    """Confidence interval of median(new) / median(base), by percentile bootstrap
    (seeded: the same samples always give the same interval)."""
    rng = random.Random(seed)
    ratios = []
    for _ in range(resamples):
        b = statistics.median(rng.choices(base, k=len(base)))
        n = statistics.median(rng.choices(new, k=len(new)))
        ratios.append(n / b if b else math.inf)
    ratios.sort()
    low = ratios[int((1 - confidence) / 2 * resamples)]
    high = ratios[min(resamples - 1, int((1 + confidence) / 2 * resamples))]
    return low, high


@dataclass(frozen=True)
class Verdict:
    metric: str
    base_median: float
    new_median: float
    ratio: float
    ci: tuple[float, float]
    p_value: float
    regression: bool
    improvement: bool

    def describe(self) -> str:
        change = (self.ratio - 1) * 100
        tag = "REGRESSION" if self.regression else ("improvement" if self.improvement else "ok")
        return (
            f"{self.metric}: {_figure(self.base_median)} -> {_figure(self.new_median)} "
            f"({change:+.1f}%, "
            f"95% CI of ratio {self.ci[0]:.3f}-{self.ci[1]:.3f}, p={self.p_value:.3g}) {tag}"
        )


def _figure(value: float) -> str:
    """12,345 rather than 1.234e+04: docs/s and docs per CPU-second run to tens of
    thousands."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def compare(
    metric: str, base: list[float], new: list[float], threshold: float = 0.10, alpha: float = 0.05
) -> Verdict:
    """Higher is better (throughput, or throughput relative to the ceiling)."""
    if len(base) < 3 or len(new) < 3:
        raise ValueError(
            f"{metric}: need at least 3 samples on each side (got {len(base)} and {len(new)})"
        )
    base_median, new_median = statistics.median(base), statistics.median(new)
    ratio = new_median / base_median if base_median else math.inf
    ci = bootstrap_ratio_ci(base, new)
    p_slower = mann_whitney_less(base, new)
    p_faster = mann_whitney_less(new, base)
    regression = p_slower < alpha and ratio < 1 - threshold and ci[1] < 1
    improvement = p_faster < alpha and ratio > 1 + threshold and ci[0] > 1
    return Verdict(
        metric,
        base_median,
        new_median,
        ratio,
        ci,
        p_slower if ratio <= 1 else p_faster,
        regression,
        improvement,
    )
