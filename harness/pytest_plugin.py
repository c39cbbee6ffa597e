"""The pytest plugin: options, the header line, and session-scoped service fixtures.

Fixtures are *factories* over the service layer (the *executors*): they decide scope and
teardown, the service layer knows nothing about pytest.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import pytest

from fixtures.corpus import DEFAULT_SEED, SIZES
from harness.plugin_scenarios import (
    ScenarioReport,
    corpus_seed,
    corpus_size,
    generate_ids,
    mark_scenarios,
    scenario_label,
    scenario_run,
)
from harness.plugin_services import (
    OPTIONS_KEY,
    STARTED_KEY,
    elasticsearch_service,
    es_endpoint,
    is_xdist_controller,
    pg_endpoint,
    postgres_service,
    run_namespace,
    share_with_workers,
    stop_shared,
)
from harness.services.base import ElasticsearchEndpoint, ServiceError
from harness.services.es_distribution import DEFAULT_ES_VERSION
from harness.services.options import BACKENDS, ServiceOptions
from harness.services.postgres import find_bindir, server_version
from harness.services.provider import SERVICES, choose_backend
from harness.services.workdirs import clean_stale

__all__ = [  # fixtures this plugin provides
    "corpus_seed",
    "corpus_size",
    "elasticsearch_service",
    "es_endpoint",
    "pg_endpoint",
    "postgres_service",
    "run_namespace",
    "scenario_label",
    "scenario_run",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("search-harness", "search connectors E2E harness")
    group.addoption(
        "--backend",
        choices=BACKENDS,
        default=None,
        help="where services come from: auto (default), local, docker, external",
    )
    group.addoption(
        "--es-version",
        default=None,
        help=f"Elasticsearch version for local/docker backends (default {DEFAULT_ES_VERSION})",
    )
    group.addoption(
        "--es-distribution",
        default=None,
        help="path to an unpacked Elasticsearch distribution or its .zip",
    )
    group.addoption("--es-url", default=None, help="external Elasticsearch URL")
    group.addoption(
        "--pg-dsn",
        default=None,
        help="external PostgreSQL DSN (prefer HARNESS_PG_DSN: options show in `ps`)",
    )
    group.addoption("--pg-bindir", default=None, help="directory holding initdb and postgres")
    group.addoption(
        "--reuse-services",
        "--keep-services",
        action="store_true",
        default=None,
        dest="reuse_services",
        help="keep local services up after the run and attach to them next time",
    )
    group.addoption(
        "--subject",
        default="cli",
        help="what syncs: cli (the connectors command, default), inprocess (the runtime API, "
        "faster) or command:TEMPLATE (with {es_url} {index} {config} {mode})",
    )
    group.addoption(
        "--corpus-size",
        default="small",
        choices=list(SIZES),
        help="rows in scenario corpora: " + ", ".join(f"{k}={v}" for k, v in SIZES.items()),
    )
    group.addoption("--seed", type=int, default=DEFAULT_SEED, help="corpus seed")
    group.addoption("--bench", action="store_true", help="run the benchmark scenarios")
    group.addoption("--bench-rounds", type=int, default=5, help="rounds per benchmark (>= 3)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "services: needs the real Elasticsearch and PostgreSQL")
    config.addinivalue_line("markers", "scenario: a standard-suite scenario of a connector")
    config.addinivalue_line("markers", "incremental: needs a source with incremental sync")
    try:
        config.stash[OPTIONS_KEY] = ServiceOptions.from_env(
            backend=config.getoption("backend"),
            es_version=config.getoption("es_version"),
            es_distribution=config.getoption("es_distribution"),
            es_url=config.getoption("es_url"),
            pg_dsn=config.getoption("pg_dsn"),
            pg_bindir=config.getoption("pg_bindir"),
            reuse=config.getoption("reuse_services"),
        )
    except ServiceError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[STARTED_KEY] = []
    config.pluginmanager.register(ScenarioReport(), "search-harness-scenario-report")
    if not hasattr(config, "workerinput"):  # the xdist controller, or a plain run
        clean_stale()
    _teardown_on_sigterm()


def pytest_sessionstart(session: pytest.Session) -> None:
    if is_xdist_controller(session.config):
        try:
            share_with_workers(session.config)
        except ServiceError as exc:
            raise pytest.UsageError(f"services for the xdist workers: {exc}") from None


def pytest_unconfigure(config: pytest.Config) -> None:
    if is_xdist_controller(config):
        stop_shared(config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    generate_ids(metafunc)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_scenarios(items)


def _teardown_on_sigterm() -> None:
    """SIGTERM's default kills pytest without teardown; turn it into an interrupt so the
    session's fixtures stop their services. (SIGKILL is the reaper's job.)"""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, _frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends us regardless
    raise KeyboardInterrupt(f"terminated by signal {signum}")


def pytest_report_header(config: pytest.Config) -> list[str]:
    options = config.stash[OPTIONS_KEY]
    chosen = {service: choose_backend(service, options) for service in SERVICES}
    if len({backend for backend, _ in chosen.values()}) == 1:
        backend, reason = next(iter(chosen.values()))
        where = f"backend {options.backend} -> {backend}"
        if options.backend == "auto" and backend != "external":
            where += f" ({reason})"
    else:
        where = ", ".join(f"{service} on {backend}" for service, (backend, _) in chosen.items())
    versions = [f"elasticsearch {options.es_version}"]
    if chosen["postgresql"][0] == "local":
        try:
            versions.append(f"postgresql {server_version(find_bindir(options.pg_bindir))}")
        except (ServiceError, OSError):
            versions.append("postgresql: server binaries not found")
    reuse = "; reusing services across runs" if options.reuse else ""
    return [f"search-harness: {where}; {', '.join(versions)}{reuse}"]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    started = config.stash.get(STARTED_KEY, [])
    if not started:
        return
    terminalreporter.section("search-harness services")
    for service in started:
        endpoint = service.endpoint
        where = (
            endpoint.url if isinstance(endpoint, ElasticsearchEndpoint) else endpoint.redacted_dsn()
        )
        kept = (
            " (kept running: `harness down` stops it)"
            if config.stash[OPTIONS_KEY].reuse and service.backend == "local"
            else ""
        )
        terminalreporter.write_line(
            f"{service.name} {endpoint.version} [{service.backend}] {where}{kept}"
        )
