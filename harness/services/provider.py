"""One entry point per service: pick the backend, then start, attach or reuse."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from harness.services import docker_backend
from harness.services.elasticsearch import ElasticsearchSettings, LocalElasticsearch
from harness.services.external import attach_elasticsearch, attach_postgres
from harness.services.options import ServiceOptions
from harness.services.postgres import LocalPostgres, PostgresSettings
from harness.services.reuse import ReusedService, answering, from_record, locked_state, to_record

SERVICES = ("elasticsearch", "postgresql")


@functools.lru_cache(maxsize=1)
def cached_docker_status() -> tuple[bool, str]:
    return docker_backend.docker_engine_status()


def choose_backend(
    service: str,
    options: ServiceOptions,
    docker_status: Callable[[], tuple[bool, str]] = cached_docker_status,
) -> tuple[str, str]:
    """auto = external if configured for this service, else docker if an engine answers,
    else local. Returns the backend and the reason, for the pytest header."""
    if options.backend != "auto":
        return options.backend, "requested"
    configured = options.es_url if service == "elasticsearch" else options.pg_dsn
    if configured:
        return "external", "an external endpoint is configured"
    ok, why = docker_status()
    return ("docker", why) if ok else ("local", why)


def _reuse_key(service: str, options: ServiceOptions) -> str:
    if service == "elasticsearch":
        return f"local elasticsearch {options.es_version} {options.es_distribution or ''}".strip()
    return f"local postgresql {options.pg_bindir or ''}".strip()


def _start_local(service: str, options: ServiceOptions, detached: bool) -> Any:
    if service == "elasticsearch":
        settings = ElasticsearchSettings(
            version=options.es_version,
            distribution=options.es_distribution,
            heap=options.es_heap,
            startup_timeout=options.es_startup_timeout,
        )
        return LocalElasticsearch.start(settings, detached=detached)
    return LocalPostgres.start(
        PostgresSettings(bindir=options.pg_bindir, startup_timeout=options.pg_startup_timeout),
        detached=detached,
    )


def start_reusable(service: str, options: ServiceOptions) -> ReusedService:
    """Attach to the recorded service if it still answers; otherwise start and record one."""
    key = _reuse_key(service, options)
    with locked_state() as state:
        record = state.get(service)
        if record:
            existing = from_record(service, record)
            if record.get("key") == key and answering(existing):
                return existing
            existing.shutdown()  # another version, or dead: replace it, leave no orphan
        started = _start_local(service, options, detached=True)
        state[service] = to_record(started, key)
        return from_record(service, state[service])


def provide(service: str, options: ServiceOptions) -> Any:
    """A running service with ``.endpoint``, ``.stop()``, ``.log_tail()`` and ``.pids()``."""
    backend, _ = choose_backend(service, options)
    if backend == "external":
        if service == "elasticsearch":
            return attach_elasticsearch(
                options.es_url or "", options.es_username, options.es_password
            )
        assert options.pg_dsn is not None
        return attach_postgres(options.pg_dsn)
    if backend == "docker":
        if service == "elasticsearch":
            return docker_backend.start_elasticsearch(
                options.es_version, options.es_heap, options.es_startup_timeout
            )
        return docker_backend.start_postgres(options.pg_startup_timeout)
    if options.reuse:
        return start_reusable(service, options)
    return _start_local(service, options, detached=False)


def shutdown_recorded() -> list[str]:
    """Stop every recorded reusable service (``harness down``); returns what was stopped."""
    stopped = []
    with locked_state() as state:
        for service in SERVICES:
            record = state.pop(service, None)
            if record:
                from_record(service, record).shutdown()
                stopped.append(service)
    return stopped
