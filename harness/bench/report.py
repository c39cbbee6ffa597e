"""``harness report``: one self-contained HTML page (inline SVG, no scripts, no network)
with each benchmark's history: throughput, ratio to the ceiling, peak memory."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from harness.atomic import write_atomic
from harness.bench.results import RunResults

CHARTS = (
    ("docs_per_second", "sync throughput (docs/s, median)"),
    ("ceiling_docs_per_second", "raw _bulk ceiling (docs/s, median)"),
    ("ratio_to_ceiling", "sync / ceiling (median)"),
    ("peak_rss_mb", "peak RSS of the sync (MB, median)"),
)
WIDTH, HEIGHT, PAD = 520, 200, 40


def line_chart(title: str, labels: Sequence[str], values: Sequence[float | None]) -> str:
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if not points:
        return ""
    top = max(v for _, v in points) * 1.1 or 1.0
    span = max(len(values) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return (PAD + i * (WIDTH - 2 * PAD) / span, HEIGHT - PAD - v / top * (HEIGHT - 2 * PAD))

    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in points))
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{html.escape(labels[i])}: {v:.4g}</title></circle>'
        for i, v in points
        for x, y in [xy(i, v)]
    )
    ticks = "".join(
        f'<text x="{PAD - 4}" y="{HEIGHT - PAD - f * (HEIGHT - 2 * PAD) + 4:.1f}" text-anchor="end">'
        f"{top * f:.3g}</text>"
        for f in (0, 0.5, 1)
    )
    first, last = html.escape(labels[0]), html.escape(labels[-1])
    return (
        f"<figure><figcaption>{html.escape(title)}</figcaption>"
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img">'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" class="axis"/>'
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" class="axis"/>{ticks}'
        f'<polyline points="{path}" class="line"/>{dots}'
        f'<text x="{PAD}" y="{HEIGHT - 10}">{first}</text>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 10}" text-anchor="end">{last}</text></svg></figure>'
    )


def render(runs: Sequence[RunResults], extra: str = "") -> str:
    """``extra``: more sections (HTML), such as ``harness compare-subjects``'s table."""
    runs = sorted(runs, key=lambda r: r.datetime)
    names = sorted({name for run in runs for name in run.benchmarks})
    labels = [f"{r.datetime[:16]} {r.commit}" for r in runs]
    sections = []
    for name in names:
        charts = []
        for metric, title in CHARTS:
            values = [
                run.benchmarks[name].median(metric) if name in run.benchmarks else None
                for run in runs
            ]
            charts.append(line_chart(title, labels, values))
        latest = next(r.benchmarks[name] for r in reversed(runs) if name in r.benchmarks)
        rows = "".join(
            f"<tr><td>{html.escape(m)}</td><td>{latest.median(m):.4g}</td><td>{len(v)}</td></tr>"
            for m, v in sorted(latest.metrics.items())
            if v
        )
        sections.append(
            f"<section><h2>{html.escape(name)}</h2><div class='charts'>{''.join(charts)}</div>"
            f"<table><tr><th>metric (latest run)</th><th>median</th><th>rounds</th></tr>{rows}</table>"
            "</section>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sync benchmarks</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 2em; color: #222; }}
.charts {{ display: flex; flex-wrap: wrap; gap: 1em; }}
figure {{ margin: 0; }} figcaption {{ font-weight: 600; }}
svg text {{ font-size: 10px; fill: #555; }}
.axis {{ stroke: #999; }} .line {{ fill: none; stroke: #1f6feb; stroke-width: 2; }}
circle {{ fill: #1f6feb; }} table {{ border-collapse: collapse; margin-top: 1em; }}
td, th {{ border: 1px solid #ddd; padding: 2px 8px; text-align: left; }}
</style></head><body>
<h1>Sync benchmarks</h1>
<p>{len(runs)} run(s), from {html.escape(labels[0]) if labels else "-"} to {html.escape(labels[-1]) if labels else "-"}.
Throughput is the sync's own docs/s; the ceiling is a raw <code>_bulk</code> load of the same
documents into the same Elasticsearch in the same run.</p>
{"".join(sections)}
{extra}
</body></html>
"""


def write_report(runs: Sequence[RunResults], output: Path, extra: str = "") -> Path:
    write_atomic(output, render(runs, extra))
    return output
