"""The pytest plugin: options, the header line, and session-scoped service fixtures.

Fixtures are *factories* over the service layer (the *executors*): they decide scope and
teardown, the service layer knows nothing about pytest.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
from typing import Any

import pytest

from harness.plugin.options import add_options, run_options
from harness.plugin.scenarios import (
    ScenarioReport,
    corpus_seed,
    corpus_size,
    fault_corpus_size,
    generate_ids,
    mark_scenarios,
    scenario_label,
    scenario_run,
)
from harness.plugin.services import (
    OPTIONS_KEY,
    POOL_KEY,
    endpoint_fixture,
    harness_services,
    order_disruptive,
    other_kind_fixtures,
    private_service,
    run_namespace,
    service_fixture,
)
from harness.plugin.subject_choice import describe_subject
from harness.plugin.xdist import SHARED_INPUT, ServiceBroker
from harness.services import registry
from harness.services.base import ServiceError
from harness.services.elasticsearch import ElasticsearchConfig
from harness.services.options import HarnessOptions, dest
from harness.services.provider import choose_backend
from harness.services.reaper import Reaper
from harness.services.reuse import ReusedService
from harness.services.workdirs import clean_stale

BROKER_KEY = pytest.StashKey[ServiceBroker]()

# The fixtures of the kinds this package registers, by name (pytest-postgresql's way):
# <kind>_service is the session's instance, <kind>_endpoint how to reach it.
elasticsearch_service = service_fixture("elasticsearch")
elasticsearch_endpoint = endpoint_fixture("elasticsearch")
es_endpoint = endpoint_fixture("elasticsearch", "es_endpoint")
postgresql_service = service_fixture("postgresql")
postgresql_endpoint = endpoint_fixture("postgresql")
pg_endpoint = endpoint_fixture("postgresql", "pg_endpoint")
mysql_service = service_fixture("mysql")
mysql_endpoint = endpoint_fixture("mysql")
s3_service = service_fixture("s3")
s3_endpoint = endpoint_fixture("s3")
extraction_service = service_fixture("extraction")
extraction_endpoint = endpoint_fixture("extraction")
mockapi_service = service_fixture("mockapi")
mockapi_endpoint = endpoint_fixture("mockapi")
fault_proxy_service = service_fixture("fault_proxy")
fault_proxy_endpoint = endpoint_fixture("fault_proxy")
OWN_KINDS = {"elasticsearch", "postgresql", "mysql", "s3", "extraction", "mockapi", "fault_proxy"}

__all__ = [  # fixtures this plugin provides, besides the per-kind ones above
    "corpus_seed",
    "corpus_size",
    "fault_corpus_size",
    "harness_services",
    "private_service",
    "run_namespace",
    "scenario_label",
    "scenario_run",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("search-harness", "search connectors E2E harness")
    add_options(group, parser)
    for kind in registry.all_kinds():
        for spec in kind.config_class.specs():
            key = dest(kind.name, spec)
            parser.addini(key, f"{kind.name}: {spec.help} (env {spec.env})", default=None)
            spec.add_to(group.addoption, key)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(other_kind_fixtures(OWN_KINDS), "harness-other-kind-fixtures")
    config.addinivalue_line("markers", "services: needs real services (Elasticsearch, a source)")
    config.addinivalue_line("markers", "scenario: a standard-suite scenario of a connector")
    config.addinivalue_line(
        "markers",
        "disrupts(kind): a scenario that pauses, kills or restarts its own instance of a "
        "service kind (private_service); the session starts that instance in the background",
    )
    config.addinivalue_line(
        "markers", "requires(*capabilities): a scenario that only connectors declaring them run"
    )
    try:
        chosen = run_options(config)
        options = HarnessOptions.resolve(
            lambda key: getattr(config.option, key, None),
            config.getini,
            backend=chosen.backend,
            reuse=chosen.reuse_services,
        )
        config.stash[OPTIONS_KEY] = with_bench_jit(options) if chosen.bench else options
    except ServiceError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.pluginmanager.register(ScenarioReport(), "search-harness-scenario-report")
    if not hasattr(config, "workerinput"):  # the xdist controller, or a plain run
        clean_stale()
    _teardown_on_sigterm()


def with_bench_jit(options: HarnessOptions) -> HarnessOptions:
    """A run with benchmarks gets the node's full JIT unless the user chose one: its
    ratios describe a production-like node, not a test node's quick one."""
    es = options.configs.get("elasticsearch")
    if not isinstance(es, ElasticsearchConfig) or es.jit is not None:
        return options
    configs = dict(options.configs) | {"elasticsearch": dataclasses.replace(es, jit="full")}
    return dataclasses.replace(options, configs=configs)


def is_xdist_controller(config: pytest.Config) -> bool:
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A reaper killed during the run is replaced before the next test (with a warning):
    otherwise a SIGKILLed session from then on would orphan its services."""
    Reaper.check()


def pytest_sessionstart(session: pytest.Session) -> None:
    options = session.config.stash[OPTIONS_KEY]
    if is_xdist_controller(session.config) and not options.reuse:
        session.config.stash[BROKER_KEY] = ServiceBroker(options)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist, on the controller, for each worker it starts: where the broker records."""
    broker = node.config.stash.get(BROKER_KEY, None)
    if broker is not None:
        node.workerinput[SHARED_INPUT] = str(broker.path)


def pytest_unconfigure(config: pytest.Config) -> None:
    broker = config.stash.get(BROKER_KEY, None)
    if broker is not None:
        broker.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    generate_ids(metafunc)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mark_scenarios(items)
    order_disruptive(config, items)


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
    chosen = {kind.name: choose_backend(kind.name, options) for kind in registry.all_kinds()}
    if len({backend for backend, _ in chosen.values()}) == 1:
        backend, reason = next(iter(chosen.values()))
        where = f"backend {options.backend} -> {backend}"
        if options.backend == "auto" and backend != "external":
            where += f" ({reason})"
    else:
        where = ", ".join(f"{name} on {backend}" for name, (backend, _) in chosen.items())
    versions = []
    for kind in registry.all_kinds():
        if chosen[kind.name][0] in ("local", "docker"):
            version = kind.local_version(options.config(kind.name))
            versions.append(f"{kind.name} {version or '(not found)'}")
    reuse = "; reusing services across runs" if options.reuse else ""
    lines = [f"search-harness: {where}; {', '.join(versions)}{reuse}"]
    subject = run_options(config).subject
    if subject == "elastic" or subject.startswith("elastic:"):
        lines.append(f"subject: {describe_subject(subject)}")
    return lines


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    pool = config.stash.get(POOL_KEY, None)
    broker = config.stash.get(BROKER_KEY, None)
    started = (pool.started if pool else []) + (broker.started if broker else [])
    if not started:
        return
    terminalreporter.section("search-harness services")
    for service in started:
        endpoint = service.endpoint
        kept = (
            " (kept running: `harness down` stops it)"
            if isinstance(service, ReusedService)
            else " (private to the scenarios that disrupt it; stopped)"
            if pool is not None and pool.is_private(service)
            else ""
        )
        terminalreporter.write_line(
            f"{service.name} {endpoint.version} [{service.backend}] {endpoint.location()}{kept}"
        )
