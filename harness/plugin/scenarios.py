"""Scenario fixtures, test ids that name the connector, and the end-of-run table."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from _pytest.junitxml import xml_key

from harness.namespace import RunNamespace
from harness.plugin.options import run_options
from harness.plugin.subject_choice import make_subject, subject_unavailable
from harness.scenario import ConnectorScenario, ScenarioRun, SyncRecord, make_fixture
from harness.services import registry
from harness.subjects import SubjectUnavailable
from harness.subjects.connectors_cli import connector_timezone


def scenario_of(cls: Any) -> ConnectorScenario | None:
    scenario = getattr(cls, "scenario", None)
    return scenario if isinstance(scenario, ConnectorScenario) else None


def generate_ids(metafunc: pytest.Metafunc) -> None:
    scenario = scenario_of(metafunc.cls)
    if scenario is not None and "scenario_label" in metafunc.fixturenames:
        size = run_options(metafunc.config).corpus_size
        label = f"{scenario.connector}-{size}"
        metafunc.parametrize("scenario_label", [label], ids=[label])


def mark_scenarios(items: list[pytest.Item]) -> None:
    """Scenario markers, and a skip, decided at collection, for every scenario that needs
    a capability its connector does not declare (``@requires``)."""
    registered: set[str] = set()
    unavailable = subject_unavailable(run_options(items[0].config).subject) if items else None
    for item in items:
        scenario = scenario_of(getattr(item, "cls", None))
        if scenario is None:
            continue
        item.add_marker(pytest.mark.scenario)
        item.add_marker(pytest.mark.services)
        if unavailable:  # before any service starts for it
            item.add_marker(pytest.mark.skip(reason=unavailable))
        for mark in item.iter_markers("requires"):
            for capability in mark.args:
                if capability not in registered:
                    item.config.addinivalue_line(
                        "markers", f"{capability}: scenarios needing the {capability} capability"
                    )
                    registered.add(capability)
                item.add_marker(capability)  # `-m incremental` selects by capability
                if capability not in scenario.capabilities:
                    item.add_marker(
                        pytest.mark.skip(
                            reason=f"{scenario.connector} does not declare {capability!r}"
                        )
                    )


@pytest.fixture
def scenario_label(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "scenario"))


@pytest.fixture(scope="session")
def corpus_size(request: pytest.FixtureRequest) -> str:
    return run_options(request.config).corpus_size


@pytest.fixture(scope="session")
def fault_corpus_size(request: pytest.FixtureRequest) -> str:
    return run_options(request.config).faults


@pytest.fixture(scope="session")
def corpus_seed(request: pytest.FixtureRequest) -> int:
    return run_options(request.config).seed


def run_in_connector_timezone() -> None:
    """In-process subjects run in this process: from the first scenario on, it runs in the
    connectors' zone (not UTC), so a zone bug shows whatever the subject. Command subjects
    get it through TZ. Sessions that run no scenario keep their zone."""
    zone = connector_timezone()
    if zone and os.environ.get("TZ") != zone:
        os.environ["TZ"] = zone
        time.tzset()


@pytest.fixture
def scenario_run(
    request: pytest.FixtureRequest,
    scenario_label: str,
    es_endpoint: Any,
    harness_services: Any,
    run_namespace: RunNamespace,
    corpus_seed: int,
) -> Iterator[ScenarioRun]:
    """A fresh source namespace, index and connector id for one scenario; cleaned up after."""
    scenario = scenario_of(request.cls)
    if scenario is None:
        raise pytest.UsageError("scenario_run needs a test class with a `scenario` declaration")
    run_in_connector_timezone()
    name = f"{scenario.connector}-{request.node.originalname.removeprefix('test_')}"
    source_name = run_namespace.name_for(registry.kind(scenario.service), name)
    try:
        subject = make_subject(run_options(request.config).subject, es_endpoint)
    except SubjectUnavailable as exc:  # e.g. no copy of Elastic's framework configured
        pytest.skip(str(exc))
    fixture = make_fixture(scenario, harness_services, source_name, corpus_seed)
    index = run_namespace.name_for(registry.kind("elasticsearch"), name)
    run = ScenarioRun(scenario, name, fixture, subject, es_endpoint, index, connector_id=index)
    try:
        yield run
    finally:
        # Through the report, so xdist workers' syncs reach the controller's table.
        request.node.user_properties.append(
            (
                "scenario_syncs",
                [(r.scenario, r.mode, r.docs, round(r.seconds, 3)) for r in run.records],
            )
        )
        if run.facts:
            request.node.user_properties.append(("scenario_facts", (run.name, run.facts)))
        run.cleanup()


class ScenarioReport:
    """Collects every scenario's syncs (from reports, so xdist workers' count too) and
    prints the end-of-run table."""

    def __init__(self) -> None:
        self.records: list[SyncRecord] = []
        self.facts: list[tuple[str, dict[str, Any]]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":
            return
        for key, value in report.user_properties:
            if key == "scenario_syncs":
                rows: list[tuple[str, str, int, float]] = value  # type: ignore[assignment]
                self.records.extend(SyncRecord(*row) for row in rows)
            elif key == "scenario_facts":
                self.facts.append(value)  # type: ignore[arg-type]

    @pytest.hookimpl(tryfirst=True)  # before junitxml's own writes the file
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """The sync table as properties of the JUnit test suite (``--junitxml``), one per
        sync, for CI to keep beside the results: ``harness_sync_001`` =
        ``scenario=… mode=full docs=10007 seconds=0.52 docs_per_second=19244``. pytest has
        no public hook for suite properties that works under xdist, hence its stash key."""
        xml = session.config.stash.get(xml_key, None)
        if xml is None:
            return
        xml.add_global_property("harness_subject", run_options(session.config).subject)
        for number, r in enumerate(self.records, 1):
            rate = round(r.docs / r.seconds) if r.seconds and r.docs else 0
            xml.add_global_property(
                f"harness_sync_{number:03d}",
                f"scenario={r.scenario} mode={r.mode} docs={r.docs} "
                f"seconds={r.seconds:.2f} docs_per_second={rate}",
            )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.facts:
            terminalreporter.section("fault scenario figures")
            for name, facts in self.facts:
                shown = ", ".join(f"{key}={value}" for key, value in facts.items())
                terminalreporter.write_line(f"{name[:50]:<50} {shown}")
        if not self.records:
            return
        terminalreporter.section("scenario syncs")
        header = f"{'scenario':<50} {'mode':<12} {'docs':>9} {'seconds':>8} {'docs/s':>9}"
        terminalreporter.write_line(header)
        for r in self.records:
            rate = f"{r.docs / r.seconds:9.0f}" if r.seconds and r.docs else f"{'-':>9}"
            line = f"{r.scenario[:50]:<50} {r.mode:<12} {r.docs:>9} {r.seconds:8.2f} {rate}"
            terminalreporter.write_line(line)
