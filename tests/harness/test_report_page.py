"""`harness report` with at least three runs of history: one offline file, numbers as
people write them, the regression `harness bench compare` flags marked; and, in headless
Chromium, no console output and every point drawn. The screenshot is kept in reports/ (CI
keeps that directory as an artifact)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 5
BENCHES = ("test_bench_full_sync", "test_bench_unchanged_resync")


def result_file(path: Path, number: int, slowdown: float = 1.0) -> Path:
    """A pytest-benchmark file as the benchmark scenarios write it: five rounds a metric."""
    benchmarks = []
    for name in BENCHES:
        rates = [20000.0 / slowdown * (1 + 0.01 * i) for i in range(ROUNDS)]
        ceiling = [25000.0 * (1 + 0.01 * i) for i in range(ROUNDS)]
        benchmarks.append({
            "name": name,
            "stats": {"data": [10007 / r for r in rates]},
            "extra_info": {
                "docs": 10007,
                "docs_per_second": rates,
                "mb_per_second": [r / 1400 for r in rates],
                "peak_rss_mb": [85.0 + i for i in range(ROUNDS)],
                "engine_seconds": [10007 / r for r in rates],
                "ceiling_docs_per_second": ceiling,
                "ratio_to_ceiling": [r / c for r, c in zip(rates, ceiling, strict=True)],
                "docs_per_cpu_second": [r * 2.4 for r in rates],
            },
        })  # fmt: skip
    path.write_text(json.dumps({
        "datetime": f"2026-11-{20 + number:02d}T09:30:00.000000+00:00",
        "commit_info": {"id": f"{number:07d}abcdef"},
        "benchmarks": benchmarks,
    }))  # fmt: skip
    return path


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    runs = [result_file(tmp / f"run{n}.json", n) for n in (1, 2, 3)]
    runs.append(result_file(tmp / "run4.json", 4, slowdown=2.0))  # half as fast
    out = tmp / "report.html"
    done = subprocess.run(
        ["harness", "report", *map(str, runs), "-o", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "(4 runs)" in done.stdout
    return out


def test_the_page_is_one_offline_file_with_human_numbers(page: Path):
    text = page.read_text()
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?https?:""", text)
    tables = "".join(re.findall(r"<table>.*?</table>", text, re.S))
    assert "<td>10.2k</td>" in tables  # the slowed run's docs/s median (20.4k / 2)
    assert "<td>87 MB</td>" in tables and "<td>0.40x</td>" in tables
    assert not re.search(r"\d\.\d+e[+-]\d", tables), "scientific notation in a table"
    assert text.count('class="plotly-graph-div"') == len(BENCHES)
    # flagged on what the compare judges by default: the ratio to the ceiling
    assert "REGRESSION\\u003cbr\\u003etest_bench_full_sync ratio_to_ceiling: 0.8 -" in text


def test_chromium_draws_every_point_with_no_console_output(page: Path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no headless Chromium here: apt-get install chromium (.ci/run does)")
    common = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
              "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000"]  # fmt: skip
    dom = subprocess.run(
        [*common, "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], "\n".join(console)
    # every panel: each round a dot and each run's median; plus, per benchmark, one cross
    # for the slowed run (on the ratio to the ceiling: what the compare judges by default)
    per_benchmark = 5 * 4 * (ROUNDS + 1)
    expected = len(BENCHES) * (per_benchmark + 1)
    drawn = dom.stdout.count('class="point"')
    assert drawn == expected, f"{drawn} points drawn, expected {expected}"
    shots = ROOT / "reports"
    shots.mkdir(exist_ok=True)
    shot = shots / "benchmark-report.png"
    subprocess.run(
        [*common, "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, timeout=180, check=True,
    )  # fmt: skip
    assert shot.stat().st_size > 20_000  # a drawn page, not a blank one
