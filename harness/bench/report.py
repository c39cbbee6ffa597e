"""``harness report``: one self-contained HTML page -- Plotly's script inline, no network
-- with each benchmark's history by commit and date (harness/bench/charts.py), regressions
marked, and the latest run's figures in words people read (23.9k docs/s, 85 MB)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from harness.atomic import write_atomic
from harness.bench import humanize
from harness.bench.charts import PANELS, history_figure
from harness.bench.results import RunResults

SHOWN = {panel.metric: panel.shown for panel in PANELS} | {
    "ceiling_docs_per_second": humanize.count,
    "engine_seconds": lambda v: f"{v:.2f} s",
    "seconds": lambda v: f"{v:.2f} s",
}


def _figure_html(name: str, runs: Sequence[RunResults], number: int) -> str:
    figure = history_figure(name, runs)
    return str(
        figure.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"chart-{number}",
            config={"displaylogo": False, "responsive": True},
        )
    )


def render(runs: Sequence[RunResults], extra: str = "") -> str:
    """``extra``: more sections (HTML), such as ``harness compare-subjects``'s table."""
    runs = sorted(runs, key=lambda r: r.datetime)
    names = sorted({name for run in runs for name in run.benchmarks})
    labels = [f"{r.datetime[:16].replace('T', ' ')} {r.commit}" for r in runs]
    sections = []
    for number, name in enumerate(names):
        latest = next(r.benchmarks[name] for r in reversed(runs) if name in r.benchmarks)
        rows = "".join(
            f"<tr><td>{html.escape(m)}</td><td>{_shown(m, latest.median(m))}</td>"
            f"<td>{len(v)}</td></tr>"
            for m, v in sorted(latest.metrics.items())
            if v
        )
        sections.append(
            f"<section><h2>{html.escape(name)}</h2>{_figure_html(name, runs, number)}"
            f"<table><tr><th>metric (latest run)</th><th>median</th><th>rounds</th></tr>{rows}</table>"
            "</section>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sync benchmarks</title>
<script>{_plotly_js()}</script>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 2em; color: #222; }}
section {{ max-width: 1100px; }}
table {{ border-collapse: collapse; margin-top: 1em; }}
td, th {{ border: 1px solid #ddd; padding: 2px 8px; text-align: left; }}
</style></head><body>
<h1>Sync benchmarks</h1>
<p>{len(runs)} run(s), from {html.escape(labels[0]) if labels else "-"} to {html.escape(labels[-1]) if labels else "-"}.
Throughput is the sync's own docs/s; the ceiling is a raw <code>_bulk</code> load of the same
documents into the same Elasticsearch in the same run. A red cross marks a run that
<code>harness bench compare</code> flags against the run before it; hover a point for its rounds.</p>
{"".join(sections)}
{extra}
</body></html>
"""


def write_report(runs: Sequence[RunResults], output: Path, extra: str = "") -> Path:
    write_atomic(output, render(runs, extra))
    return output


def _shown(metric: str, value: float | None) -> str:
    if value is None:
        return "-"
    return html.escape(SHOWN.get(metric, humanize.count)(value))


def _plotly_js() -> str:
    """Plotly's own bundle, from the installed package: the page needs no network."""
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs()).replace("</script", "<\\/script")
