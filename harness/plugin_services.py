"""Service fixtures (factories over the service layer), and sharing them across xdist
workers: the controller starts the services once, watched by its reaper, and records them;
workers attach and never stop them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from harness.namespace import RunNamespace
from harness.services.base import ElasticsearchEndpoint, PostgresEndpoint, ServiceError
from harness.services.options import ServiceOptions
from harness.services.provider import SERVICES, choose_backend, provide
from harness.services.reuse import from_record, locked_state, read_state, to_record
from harness.services.workdirs import base_dir

OPTIONS_KEY = pytest.StashKey[ServiceOptions]()
STARTED_KEY = pytest.StashKey[list[Any]]()
SHARED_ENV = "HARNESS_XDIST_SHARED_STATE"
SERVICE_FIXTURES = {"elasticsearch": "es_endpoint", "postgresql": "pg_endpoint"}


def is_xdist_controller(config: pytest.Config) -> bool:
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


def share_with_workers(config: pytest.Config) -> None:
    """On the xdist controller: start local services now and publish them to the workers
    (which inherit the environment) through a run-specific state file."""
    options = config.stash[OPTIONS_KEY]
    path = base_dir() / f"xdist-{os.getpid()}.json"
    os.environ[SHARED_ENV] = str(path)
    os.environ["HARNESS_STATE_FILE"] = str(path)
    for name in SERVICES:
        if choose_backend(name, options)[0] != "local" or options.reuse:
            continue
        service = provide(name, options)
        config.stash[STARTED_KEY].append(service)
        with locked_state() as state:
            state[name] = to_record(service, f"xdist {name}")


def stop_shared(config: pytest.Config) -> None:
    for service in config.stash.get(STARTED_KEY, []):
        service.stop()
    path = os.environ.pop(SHARED_ENV, None)
    if path:
        for leftover in (path, path.replace(".json", ".lock")):
            if os.path.exists(leftover):
                os.unlink(leftover)


def _service(request: pytest.FixtureRequest, name: str) -> Iterator[Any]:
    shared = os.environ.get(SHARED_ENV) and read_state().get(name)
    if shared:  # an xdist worker: the controller owns the service
        yield from_record(name, shared)
        return
    options = request.config.stash[OPTIONS_KEY]
    failure = None
    try:
        service = provide(name, options)
    except ServiceError as exc:
        failure = f"{name} could not be provided: {exc}"
    if failure:
        pytest.fail(failure, pytrace=False)
    request.config.stash[STARTED_KEY].append(service)
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="session")
def elasticsearch_service(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The session's Elasticsearch (started, attached or reused per the options)."""
    yield from _service(request, "elasticsearch")


@pytest.fixture(scope="session")
def postgres_service(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The session's PostgreSQL server (started, attached or reused per the options)."""
    yield from _service(request, "postgresql")


@pytest.fixture(scope="session")
def es_endpoint(elasticsearch_service: Any) -> ElasticsearchEndpoint:
    return elasticsearch_service.endpoint


@pytest.fixture(scope="session")
def pg_endpoint(postgres_service: Any) -> PostgresEndpoint:
    return postgres_service.endpoint


@pytest.fixture(scope="session")
def run_namespace() -> RunNamespace:
    """Per session and per xdist worker: names never collide across runs or workers."""
    return RunNamespace.new()
