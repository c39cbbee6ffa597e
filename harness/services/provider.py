"""One entry point for every service kind: pick the backend, then start, attach or reuse."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from harness.services import docker_backend, registry
from harness.services.base import ServiceError
from harness.services.external import ExternalService
from harness.services.options import HarnessOptions
from harness.services.reuse import (
    ReusedService,
    answering,
    discard,
    from_record,
    locked_state,
    to_record,
)


@functools.lru_cache(maxsize=1)
def cached_docker_status() -> tuple[bool, str]:
    return docker_backend.docker_engine_status()


def choose_backend(
    name: str,
    options: HarnessOptions,
    docker_status: Callable[[], tuple[bool, str]] = cached_docker_status,
) -> tuple[str, str]:
    """auto = external if configured for this kind, else docker if an engine answers,
    else local. Returns the backend and the reason, for the pytest header."""
    if options.backend != "auto":
        chosen = options.backend, "requested"
    elif options.config(name).external_target() is not None:
        return "external", "an external endpoint is configured"
    else:
        ok, why = docker_status()
        chosen = ("docker", why) if ok else ("local", why)
    if chosen[0] == "docker" and registry.kind(name).local_only:
        return "local", f"{name} has no container: it runs beside the tests"
    return chosen


def start_reusable(name: str, options: HarnessOptions) -> ReusedService:
    """Attach to the recorded service if it still answers; otherwise start and record one."""
    kind, config = registry.kind(name), options.config(name)
    key = kind.reuse_key(config)
    with locked_state() as state:
        record = state.get(name)
        if record:
            if record.get("key") == key and "endpoint" in record:
                existing = from_record(name, record)
                if answering(existing):
                    return existing
            discard(name, record)  # another version, or dead: replace it, leave no orphan
        started = kind.start_local(config, detached=True)
        state[name] = to_record(started, key)
        return from_record(name, state[name])


def provide(name: str, options: HarnessOptions) -> Any:
    """A running service of kind ``name``: ``.endpoint``, ``.stop()``, ``.log_tail()``,
    ``.pids()``."""
    kind, config = registry.kind(name), options.config(name)
    backend, _ = choose_backend(name, options)
    if backend == "external":
        if config.external_target() is None:
            flags = [s.flag or s.env for s in config.specs() if s.external]
            raise ServiceError(
                f"backend 'external' needs an endpoint for {name}: set {' or '.join(flags)}"
            )
        return ExternalService(name, kind.attach(config))
    if backend == "docker":
        return docker_backend.start_container(kind, config, float(config.startup_timeout))
    if options.reuse:
        return start_reusable(name, options)
    return kind.start_local(config, detached=False)


def shutdown_recorded() -> list[str]:
    """Stop every recorded reusable service (``harness down``); returns what was stopped."""
    stopped = []
    with locked_state() as state:
        for name in list(state):
            record = state.pop(name)
            if isinstance(record, dict) and "pgid" in record:
                discard(name, record)
                stopped.append(name)
    return stopped
