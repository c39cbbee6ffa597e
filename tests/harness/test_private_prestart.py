"""The session's private instances (for scenarios that disrupt a service): started in the
background once the first shared service is up, handed to the scenario that asks, and
stopped at the end even when no scenario asked. Fakes stand in for the services: what is
tested is the pool's bookkeeping, which the E2E fault scenarios then rely on."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from harness.plugin.services import ServicePool, order_disruptive
from harness.services.base import ServiceError
from harness.services.kind import DisruptableService


class FakeNode(DisruptableService):
    def __init__(self, name: str) -> None:
        self.name, self.stopped = name, False
        self.endpoint = object()

    def stop(self) -> None:
        self.stopped = True

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def kill(self) -> None: ...

    def restart(self) -> None: ...

    def log_tail(self) -> str:
        return ""


class Pool(ServicePool):
    def __init__(self, fail: bool = False) -> None:
        super().__init__(options=None)  # type: ignore[arg-type]
        self.fail, self.began = fail, threading.Event()
        self.private_starts: list[str] = []

    def _provide(self, name: str) -> Any:
        return FakeNode(name)

    def _start_private(self, name: str) -> Any:
        self.private_starts.append(name)
        self.began.set()
        if self.fail:
            raise ServiceError(f"{name}: no room for a second node")
        return FakeNode(f"private {name}")


def test_a_declared_private_instance_starts_after_the_first_shared_one_and_is_reused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("harness.plugin.services._answers", lambda name, service: True)
    pool = Pool()
    pool.prestart_private({"elasticsearch"})
    assert not pool.began.wait(0.2), "started before any shared service was up"
    pool.get("postgresql")
    assert pool.began.wait(10)
    node = pool.private("elasticsearch")
    assert node.name == "private elasticsearch"
    assert pool.private("elasticsearch") is node and pool.private_starts == ["elasticsearch"]
    pool.close()
    assert node.stopped


def test_an_unused_prestarted_instance_is_stopped_at_the_end() -> None:
    pool = Pool()
    pool.prestart_private({"elasticsearch"})
    pool.get("postgresql")
    assert pool.began.wait(10)
    pool.close()
    stopped = [s for s in pool.started if getattr(s, "name", "") == "private elasticsearch"]
    assert stopped and all(s.stopped for s in stopped)


def test_a_failed_prestart_reaches_the_scenario_that_asks() -> None:
    pool = Pool(fail=True)
    pool.prestart_private({"elasticsearch"})
    pool.get("postgresql")
    with pytest.raises(ServiceError, match="no room for a second node"):
        pool.private("elasticsearch")
    pool.close()


class Item:
    def __init__(self, name: str, disrupts: bool) -> None:
        self.name, self.disrupts = name, disrupts

    def get_closest_marker(self, name: str) -> object:
        return object() if name == "disrupts" and self.disrupts else None


class Config:
    pass


def test_disruptive_scenarios_run_last_alone_and_first_under_xdist() -> None:
    def order(config: object) -> list[str]:
        items: list[Any] = [Item("a", False), Item("kill", True), Item("b", False)]
        order_disruptive(config, items)  # type: ignore[arg-type]
        return [i.name for i in items]

    assert order(Config()) == ["a", "b", "kill"]
    worker = Config()
    worker.workerinput = {}  # type: ignore[attr-defined]
    assert order(worker) == ["kill", "a", "b"]
