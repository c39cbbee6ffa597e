"""Service fixtures: *factories* over the service layer (the *executors*).

One session-scoped ``harness_services`` pool starts each kind the first time a test needs
it and stops everything at the end. For every registered kind there are also the fixtures
``<kind>_service`` and ``<kind>_endpoint`` (plus the kind's alias, e.g. ``pg_endpoint``),
generated from the registry: a new kind needs no change here.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.namespace import RunNamespace
from harness.plugin.xdist import attach_shared, shared_state
from harness.services import registry
from harness.services.base import NoPrivateInstance, ServiceError
from harness.services.docker_backend import start_container
from harness.services.kind import DisruptableService
from harness.services.options import HarnessOptions
from harness.services.provider import choose_backend, provide
from harness.services.wait import NotReady

OPTIONS_KEY = pytest.StashKey[HarnessOptions]()
POOL_KEY = pytest.StashKey["ServicePool"]()


class ServicePool:
    """The session's services by kind: started (or attached, or reused) on first use."""

    def __init__(self, options: HarnessOptions, shared: Path | None = None) -> None:
        self.options = options
        self.shared = shared  # the xdist broker's state file, in one of its workers
        self.started: list[Any] = []
        self._failed: dict[str, str] = {}
        self._by_kind: dict[str, Any] = {}
        self._private: dict[str, Any] = {}
        self._starting: dict[str, _Starting] = {}
        self._prestart: set[str] = set()

    def get(self, name: str) -> Any:
        if name in self._failed:  # fail every later test fast, with the first reason
            raise ServiceError(self._failed[name])
        if name not in self._by_kind:
            try:
                self._by_kind[name] = self._provide(name)
            except ServiceError as exc:
                self._failed[name] = f"{name} could not be provided: {exc}"
                raise ServiceError(self._failed[name]) from None
            self._begin_prestart()
        return self._by_kind[name]

    def _provide(self, name: str) -> Any:
        backend, _ = choose_backend(name, self.options)
        if self.shared is not None and backend == "local" and not self.options.reuse:
            return attach_shared(name, self.shared)  # the xdist controller owns it
        service = provide(name, self.options)
        self.started.append(service)
        return service

    def endpoint(self, name: str) -> Any:
        return self.get(name).endpoint

    def is_private(self, service: Any) -> bool:
        return any(service is mine for mine in self._private.values())

    def private(self, name: str) -> DisruptableService:
        """An instance of ``name`` for this session alone, that a fault scenario may pause,
        kill and restart without touching what other tests (or xdist workers, or a later
        run reusing services) rely on. Started on first use (or in the background, see
        ``prestart_private``), replaced if a scenario left it unanswering."""
        starting = self._starting.pop(name, None)
        if starting is not None:
            self._keep_private(name, starting.result())
        service = self._private.get(name)
        if service is not None and not _answers(name, service):
            service.stop()
            self.started.remove(service)
            service = None
        if service is None:
            service = self._keep_private(name, self._start_private(name))
        assert isinstance(service, DisruptableService), f"{name}: {service!r} cannot be disrupted"
        return service

    def prestart_private(self, names: Iterable[str]) -> None:
        """Start the private instances that the session's scenarios declare they disrupt
        (``@pytest.mark.disrupts``) in the background while other tests run, from when the
        first shared service is up (two nodes starting at once on 2 cores take as long as
        one after the other): a node's start (8 s here) leaves the suite's critical path."""
        self._prestart.update(names)

    def _begin_prestart(self) -> None:
        for name in sorted(self._prestart - set(self._private) - set(self._starting)):
            self._starting[name] = _Starting(functools.partial(self._start_private, name))
        self._prestart.clear()

    def _start_private(self, name: str) -> Any:
        backend, _ = choose_backend(name, self.options)
        if backend == "external":
            raise NoPrivateInstance(
                f"a fault scenario needs an {name} it may kill; the external backend "
                "gives only yours: run it with the local or docker backend"
            )
        config = self.options.config(name)
        kind = registry.kind(name)
        if backend == "local":
            return kind.start_local(config, detached=False)
        return start_container(kind, config, float(config.startup_timeout))

    def _keep_private(self, name: str, service: Any) -> Any:
        self.started.append(service)
        self._private[name] = service
        return service

    def close(self) -> None:
        for starting in self._starting.values():  # never used: stopped all the same
            with contextlib.suppress(Exception):  # one that failed has nothing to stop
                self.started.append(starting.result())
        self._starting.clear()
        for service in reversed(self.started):  # kept: the summary lists them afterwards
            service.stop()


class _Starting:
    """A service start in a thread of its own; ``result()`` waits for it, and raises what
    the start raised."""

    def __init__(self, start: Callable[[], Any]) -> None:
        self._start = start
        self._service: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="harness-prestart", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._service = self._start()
        except BaseException as exc:  # handed to whoever waits for the service
            self._error = exc

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._service


def _answers(name: str, service: Any) -> bool:
    try:
        registry.kind(name).probe(service.endpoint)
    except (OSError, NotReady):
        return False
    return True


def may_run(item: pytest.Item) -> bool:
    """False for a test that collection already knows will be skipped: a scenario its
    connector lacks the capability for, or anything but a benchmark under
    --benchmark-only. Its private node (1 GB, a JVM start) is then not started early."""
    if item.get_closest_marker("skip") is not None:
        return False
    benchmark_only = item.config.getoption("benchmark_only", default=False)
    return not (benchmark_only and "benchmark" not in getattr(item, "fixturenames", ()))


def order_disruptive(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Scenarios that disrupt a private instance run last in a plain session, so that the
    instance starts in the background while the others run; first under xdist (which
    starts none early), so that the longest tests do not end the run on one worker."""
    disrupts = [item for item in items if item.get_closest_marker("disrupts")]
    if not disrupts:
        return
    others = [item for item in items if not item.get_closest_marker("disrupts")]
    xdist = hasattr(config, "workerinput")
    items[:] = disrupts + others if xdist else others + disrupts


@pytest.fixture(scope="session")
def harness_services(request: pytest.FixtureRequest) -> Iterator[ServicePool]:
    pool = ServicePool(request.config.stash[OPTIONS_KEY], shared_state(request.config))
    request.config.stash[POOL_KEY] = pool
    if not hasattr(request.config, "workerinput"):  # xdist workers each run but a share
        pool.prestart_private(
            {
                m.args[0]
                for item in request.session.items
                if may_run(item)
                for m in item.iter_markers("disrupts")
            }
        )
    try:
        yield pool
    finally:
        pool.close()


def _get(pool: ServicePool, name: str) -> Any:
    try:
        return pool.get(name)
    except ServiceError as exc:
        pytest.fail(str(exc), pytrace=False)


def _fixture(name: str, kind: str, get: Callable[[Any], Any], doc: str, method: bool) -> Any:
    """A session fixture ``name`` returning ``get(pool entry)``; ``method``: as a plugin
    class's attribute, which pytest calls with the plugin instance first."""
    if method:

        def bound(self: object, harness_services: ServicePool) -> Any:
            return get(_get(harness_services, kind))

        fixture: Callable[..., Any] = bound
    else:

        def plain(harness_services: ServicePool) -> Any:
            return get(_get(harness_services, kind))

        fixture = plain
    fixture.__doc__ = doc
    return pytest.fixture(scope="session", name=name)(fixture)


def service_fixture(kind: str, method: bool = False) -> Any:
    """The fixture ``<kind>_service``: the session's instance of the kind."""
    doc = f"The session's {kind} (started, attached or reused per the options)."
    return _fixture(f"{kind}_service", kind, lambda service: service, doc, method)


def endpoint_fixture(kind: str, alias: str | None = None, method: bool = False) -> Any:
    """The fixture ``<kind>_endpoint`` (or ``alias``): how to reach the session's kind."""
    name = alias or f"{kind}_endpoint"
    return _fixture(
        name, kind, lambda service: service.endpoint, f"How to reach the session's {kind}.", method
    )


def other_kind_fixtures(known: set[str]) -> object:
    """A plugin holding ``<kind>_service`` and ``<kind>_endpoint`` for the kinds another
    distribution registers (the plugin declares its own kinds' fixtures by name). pytest
    reads fixtures from a plugin's class, so the class is made here, with them."""
    made: dict[str, Any] = {}
    for kind in registry.all_kinds():
        if kind.name in known:
            continue
        made[f"{kind.name}_service"] = service_fixture(kind.name, method=True)
        for alias in filter(None, (f"{kind.name}_endpoint", kind.fixture_alias)):
            made[alias] = endpoint_fixture(kind.name, alias, method=True)
    return type("OtherKindFixtures", (), made)()


@pytest.fixture(scope="session")
def private_service(harness_services: ServicePool) -> Callable[[str], DisruptableService]:
    """``private_service("elasticsearch")``: this session's own instance of a kind, for a
    scenario that pauses, kills or restarts it (skipped on the external backend)."""

    return functools.partial(private_or_skip, harness_services)


def private_or_skip(pool: ServicePool, name: str) -> DisruptableService:
    """The pool's private instance; skipped only where the backend cannot give one. A
    start that fails is raised: under load 20 a node that did not start in time skipped
    the restart scenario, and a sink that never retried a bulk passed the suite."""
    try:
        return pool.private(name)
    except NoPrivateInstance as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def run_namespace() -> RunNamespace:
    """Per session and per xdist worker: names never collide across runs or workers."""
    return RunNamespace.new()
