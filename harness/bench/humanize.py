"""Numbers as people read them in a report: 23.9k docs/s, 85 MB, 0.52x -- never 2.149e+04."""

from __future__ import annotations


def count(value: float) -> str:
    """23.9k, 1.2M, 950: three significant figures at most, SI suffix."""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}" if magnitude < 100 and value != int(value) else f"{value:.0f}"


def megabytes(value: float) -> str:
    return f"{value:.0f} MB" if value >= 10 else f"{value:.1f} MB"


def ratio(value: float) -> str:
    return f"{value:.2f}x"


def per_second(value: float, unit: str = "docs") -> str:
    return f"{count(value)} {unit}/s"
