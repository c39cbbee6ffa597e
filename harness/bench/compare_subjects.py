"""``harness compare-subjects``: the same corpus through several subjects on the same
services, rounds interleaved (A B, then B A...), so a machine getting busier halfway hurts
both alike. Per subject: full-sync docs/s (wall, start-up included: what a user waits),
CPU seconds and peak RSS of the sync's processes, documents written by an unchanged re-sync,
and, on request, the standard scenarios each passes (a pytest run per subject)."""

from __future__ import annotations

import importlib.util
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.checks.index_reader import IndexReader
from harness.namespace import RunNamespace
from harness.plugin.subject_choice import make_subject
from harness.scenario import ConnectorScenario, make_fixture
from harness.services import registry
from harness.services.es_http import es_request
from harness.subjects import ConnectorSpec, SyncSubject


@dataclass
class SubjectFigures:
    subject: str
    describe: str = ""
    docs: int = 0
    docs_per_second: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    peak_rss_mb: list[float] = field(default_factory=list)
    unchanged_written: list[int] = field(default_factory=list)
    unchanged_per_second: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    scenarios: dict[str, int] = field(default_factory=dict)  # passed, failed, skipped
    # scenario -> "passed", "skipped: why" or "failed: the first line of its message"
    outcomes: dict[str, str] = field(default_factory=dict)

    def row(self) -> list[str]:
        def median(values: list[float], fmt: str) -> str:
            return format(statistics.median(values), fmt) if values else "-"

        passed = (f"{self.scenarios.get('passed', 0)}/{self.scenarios.get('run', 0)}"
                  if self.scenarios else "-")  # fmt: skip
        return [
            self.subject,
            f"{self.docs:,}",
            median(self.docs_per_second, ",.0f"),
            median(self.cpu_seconds, ".1f"),
            median(self.peak_rss_mb, ".0f"),
            median(self.unchanged_per_second, ",.0f"),
            median([float(n) for n in self.unchanged_written], ",.0f"),
            passed,
        ]


HEADER = ["subject", "docs", "full docs/s", "CPU s", "peak RSS MB", "unchanged re-sync docs/s",
          "unchanged re-sync writes", "scenarios passed"]  # fmt: skip


def load_scenario(directory: Path) -> ConnectorScenario:
    """The ConnectorScenario a scenario directory declares (its test module's suite)."""
    sys.path.insert(0, str(directory.resolve().parents[1]))  # fixtures/ beside scenarios/
    for path in sorted(directory.glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(f"_compared_{path.stem}", path)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for value in vars(module).values():
            scenario = getattr(value, "scenario", None)
            if isinstance(scenario, ConnectorScenario):
                return scenario
    raise SystemExit(f"{directory}: no test class with a ConnectorScenario `scenario`")


class _Services:
    def __init__(self, endpoints: dict[str, Any]) -> None:
        self.endpoints = endpoints

    def endpoint(self, kind: str) -> Any:
        return self.endpoints[kind]


def _describe(subject: SyncSubject, name: str) -> str:
    describe = getattr(subject, "describe", None)
    return str(describe()) if describe else name


def _cpu() -> float:
    mine = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def _measure(subject: SyncSubject, spec: ConnectorSpec, figures: SubjectFigures) -> None:
    es_request(subject.endpoint, "DELETE", f"/{spec.index_name}?ignore_unavailable=true")
    cpu = _cpu()
    outcome = subject.sync(spec, "full")
    spent = _cpu() - cpu
    if not outcome.ok:
        figures.failures.append(f"full sync: {outcome.status}: {(outcome.error or '')[:300]}")
        return
    figures.docs_per_second.append(figures.docs / outcome.seconds)
    figures.cpu_seconds.append(spent)
    if outcome.counts.get("peak_rss_mb") is not None:
        figures.peak_rss_mb.append(float(outcome.counts["peak_rss_mb"]))
    reader = IndexReader(subject.endpoint, spec.index_name)
    before = reader.write_stats()
    again = subject.sync(spec, "full")
    if not again.ok:
        figures.failures.append(f"unchanged re-sync: {again.status}: {(again.error or '')[:300]}")
        return
    figures.unchanged_written.append(reader.write_stats()[0] - before[0])
    figures.unchanged_per_second.append(figures.docs / again.seconds)


def scenario_counts(
    directory: Path, subject: str, corpus_size: str
) -> tuple[dict[str, int], dict[str, str]]:
    """The standard suite under ``subject`` on the running services: (passed, run,
    skipped) and each scenario's outcome with the first line of its reason."""
    with tempfile.NamedTemporaryFile(suffix=".xml") as report:
        subprocess.run(
            [sys.executable, "-m", "pytest", str(directory), "-q", "-p", "no:cacheprovider",
             "--reuse-services", "--subject", subject, "--corpus-size", corpus_size,
             f"--junitxml={report.name}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        suite = ET.parse(report.name).getroot()
    suite = suite if suite.tag == "testsuite" else suite[0]
    tests, skipped = int(suite.get("tests", 0)), int(suite.get("skipped", 0))
    failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    counts = {"run": tests - skipped, "passed": tests - skipped - failed, "skipped": skipped}
    return counts, {case.get("name", "?"): _outcome(case) for case in suite.iter("testcase")}


def _outcome(case: ET.Element) -> str:
    for tag in ("failure", "error", "skipped"):
        found = case.find(tag)
        if found is not None:
            message = (found.get("message") or found.text or "").strip().splitlines()
            word = "skipped" if tag == "skipped" else "failed"
            return f"{word}: {message[0][:240] if message else ''}"
    return "passed"


def compare(
    directory: Path,
    subjects: list[str],
    corpus_size: str,
    rounds: int,
    options: Any,
    with_scenarios: bool,
) -> list[SubjectFigures]:
    from harness.services.provider import start_reusable

    scenario = load_scenario(directory)
    kinds = ["elasticsearch", scenario.service, *scenario.needs]
    endpoints = {kind: start_reusable(kind, options).endpoint for kind in kinds}
    es = endpoints["elasticsearch"]
    namespace = RunNamespace.new()
    source_name = namespace.name_for(registry.kind(scenario.service), "compare")
    fixture = make_fixture(scenario, _Services(endpoints), source_name, 1)
    try:
        fixture.load(corpus_size)
        made = {name: make_subject(name, es) for name in subjects}
        figures = {name: SubjectFigures(name, _describe(made[name], name), fixture.expected_count())
                   for name in subjects}  # fmt: skip
        specs = {}
        for name in subjects:
            ident = namespace.es_name(f"compare-{name.split(':')[0]}")
            specs[name] = ConnectorSpec(ident, scenario.connector, ident, fixture.configuration())
        for name in subjects:  # warm-up, not counted: caches, first connections
            made[name].sync(specs[name], "full")
        for n in range(rounds):
            order = subjects if n % 2 == 0 else list(reversed(subjects))
            for name in order:
                _measure(made[name], specs[name], figures[name])
        for spec in specs.values():
            es_request(es, "DELETE", f"/{spec.index_name}?ignore_unavailable=true")
    finally:
        fixture.drop()
    if with_scenarios:
        for name in subjects:
            counts, outcomes = scenario_counts(directory, name, "small")
            figures[name].scenarios, figures[name].outcomes = counts, outcomes
    return list(figures.values())


def render(figures: list[SubjectFigures]) -> str:
    rows = [HEADER, *(f.row() for f in figures)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for f in figures:
        lines.append(f"{f.subject}: {f.describe}")
        lines += [f"  {f.subject} failed: {problem}" for problem in f.failures]
    for f in figures:
        if f.outcomes:
            lines += ["", f"scenarios under {f.subject} (small corpus):"]
            lines += [f"  {name}: {how}" for name, how in sorted(f.outcomes.items())]
    return "\n".join(lines)


def to_json(figures: list[SubjectFigures]) -> str:
    return json.dumps([asdict(f) for f in figures], indent=2)


def from_json(text: str) -> list[SubjectFigures]:
    return [SubjectFigures(**item) for item in json.loads(text)]


def html_section(figures: list[SubjectFigures]) -> str:
    """The comparison as a section of ``harness report``'s page."""
    import html

    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADER)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in f.row()) + "</tr>" for f in figures
    )
    notes = "".join(f"<li>{html.escape(f.subject)}: {html.escape(f.describe)}</li>"
                    for f in figures)  # fmt: skip
    outcomes = "".join(
        f"<tr><td>{html.escape(f.subject)}</td><td>{html.escape(name)}</td>"
        f"<td>{html.escape(how)}</td></tr>"
        for f in figures
        for name, how in sorted(f.outcomes.items())
    )
    table = (f"<table><tr><th>subject</th><th>scenario</th><th>outcome</th></tr>{outcomes}"
             "</table>" if outcomes else "")  # fmt: skip
    return (f"<section><h2>Subjects compared</h2><table><tr>{head}</tr>{rows}</table>"
            f"<ul>{notes}</ul>{table}</section>")  # fmt: skip
