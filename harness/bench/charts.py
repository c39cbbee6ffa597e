"""One benchmark's history as a Plotly figure: a panel per metric (docs/s, docs per
CPU-second, ratio to the ceiling, MB/s, peak RSS), the median of each run joined by a
line, every round a faint dot, hovering a run shows its rounds, and the runs ``harness
bench compare`` flags against the run before them are marked. Plotly is imported here
only: the report is its one user. Why Plotly: docs/plotting.md."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.bench import humanize
from harness.bench.compare import compare_runs
from harness.bench.results import RunResults


@dataclass(frozen=True)
class Panel:
    metric: str
    title: str
    tickformat: str
    shown: Callable[[float], str]
    suffix: str = ""


PANELS = (
    Panel("docs_per_second", "sync throughput (docs/s)", "~s", humanize.count),
    Panel("docs_per_cpu_second", "docs per CPU-second of the sync", "~s", humanize.count),
    Panel(
        "ratio_to_ceiling",
        "sync / raw ceiling (bulk, or scan for the re-sync)",
        ".2f",
        humanize.ratio,
    ),
    Panel("mb_per_second", "sync throughput (MB/s)", ".3~g", humanize.count),
    Panel("peak_rss_mb", "peak RSS of the sync", ".0f", humanize.megabytes, " MB"),
)
LINE, ROUND, FLAG = "#1f6feb", "#8aa9d6", "#d1242f"


def run_label(number: int, run: RunResults) -> str:
    """Unique per run (runs of one commit, one minute apart, must not merge): its number
    in the history, when it ran (as its result file says) and its commit."""
    return f"#{number} {run.datetime[:19].replace('T', ' ')}<br>{run.commit}"


def flagged(runs: Sequence[RunResults], name: str) -> dict[tuple[int, str], str]:
    """(run index, metric) -> what ``harness bench compare`` said, for each run flagged
    against the run before it."""
    marks: dict[tuple[int, str], str] = {}
    for i in range(1, len(runs)):
        try:
            comparison = compare_runs(runs[i - 1], runs[i])
        except ValueError:  # no benchmark in common
            continue
        for line in comparison.regressions:
            if not line.startswith(name + " "):
                continue
            metric = "peak_rss_mb" if " peak RSS" in line else line.split(":")[0].split()[-1]
            marks[(i, metric)] = line
    return marks


def history_figure(name: str, runs: Sequence[RunResults]) -> Any:
    from plotly.subplots import make_subplots

    having = [run for run in runs if name in run.benchmarks]
    labels = [run_label(i, run) for i, run in enumerate(having, 1)]
    marks = flagged(having, name)
    figure = make_subplots(
        rows=len(PANELS),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.07,
        subplot_titles=[panel.title for panel in PANELS],
    )
    for row, panel in enumerate(PANELS, 1):
        _add_panel(figure, name, row, panel, having, labels, marks)
    figure.update_layout(
        height=190 * len(PANELS) + 60,
        margin={"l": 70, "r": 20, "t": 40, "b": 70},
        hovermode="closest",
        showlegend=False,
        template="plotly_white",
    )
    figure.update_xaxes(type="category", automargin=True)
    return figure


def _add_panel(
    figure: Any,
    name: str,
    row: int,
    panel: Panel,
    runs: Sequence[RunResults],
    labels: list[str],
    marks: dict[tuple[int, str], str],
) -> None:
    import plotly.graph_objects as go

    medians: list[float | None] = []
    hover: list[str] = []
    round_x: list[str] = []
    round_y: list[float] = []
    for label, run in zip(labels, runs, strict=True):
        rounds = run.benchmarks[name].metrics.get(panel.metric, [])
        middle = statistics.median(rounds) if rounds else None
        medians.append(middle)
        round_x += [label] * len(rounds)
        round_y += rounds
        hover.append(
            f"<b>{panel.shown(middle)}</b> median of {len(rounds)} rounds<br>"
            f"rounds: {', '.join(panel.shown(v) for v in rounds)}<br>"
            f"{run.commit} {run.datetime[:19]}"
            if middle is not None
            else "not measured"
        )
    figure.add_trace(
        go.Scatter(x=round_x, y=round_y, mode="markers", hoverinfo="skip",
                   marker={"size": 5, "color": ROUND, "opacity": 0.6}),
        row=row, col=1,
    )  # fmt: skip
    figure.add_trace(
        go.Scatter(x=labels, y=medians, mode="lines+markers", hovertext=hover,
                   hoverinfo="text", line={"color": LINE, "width": 2}, marker={"size": 8}),
        row=row, col=1,
    )  # fmt: skip
    hits = [i for i in range(len(runs)) if (i, panel.metric) in marks]
    if hits:
        figure.add_trace(
            go.Scatter(
                x=[labels[i] for i in hits],
                y=[medians[i] for i in hits],
                mode="markers",
                hovertext=[f"REGRESSION<br>{marks[(i, panel.metric)]}" for i in hits],
                hoverinfo="text",
                marker={"symbol": "x-thin-open", "size": 18, "color": FLAG, "line": {"width": 3}},
            ),
            row=row, col=1,
        )  # fmt: skip
    figure.update_yaxes(
        tickformat=panel.tickformat, ticksuffix=panel.suffix, rangemode="tozero",
        automargin=True, row=row, col=1,
    )  # fmt: skip
