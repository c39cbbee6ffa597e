"""The sink's exact limits and accounting: where a batch closes, what is counted, what a
failure records, how long it backs off. Each test pins a rule a plausible slip would break."""

import asyncio
from typing import Any

import orjson
import pytest

from connectors import defaults
from connectors.es import sink as sink_module
from connectors.es.bulk_transport import HttpBulkTransport
from connectors.es.client import EsSettings
from connectors.es.sink import BulkSink, SinkError, SinkStats
from tests.connectors.bulk_server import ScriptedBulkServer


def run_sink(script: list[Any], actions: list[tuple[str, str]], **options: Any):
    """Feed ("index"|"delete", id) actions through a sink and a scripted server."""

    async def go() -> tuple[ScriptedBulkServer, SinkStats]:
        async with ScriptedBulkServer(script) as server:
            transport = HttpBulkTransport(EsSettings(server.url))
            try:
                sink = BulkSink(transport, "idx", backoff=0, **options)
                for action, doc_id in actions:
                    if action == "index":
                        await sink.add_index(doc_id, b'{"n":1}')
                    else:
                        await sink.add_delete(doc_id)
                return server, await sink.close()
            finally:
                await transport.close()

    return asyncio.run(go())


def actions_per_call(server: ScriptedBulkServer) -> list[int]:
    return [call.count(b'{"index"') + call.count(b'{"delete"') for call in server.calls]


INDEXES = [("index", f"d{i}") for i in range(6)]
DELETES = [("delete", f"d{i}") for i in range(6)]


@pytest.mark.parametrize("actions", [INDEXES, DELETES], ids=["index", "delete"])
def test_a_batch_closes_at_exactly_max_docs(actions):
    server, _ = run_sink([], actions, max_docs=3, concurrency=1)
    assert actions_per_call(server) == [3, 3]


@pytest.mark.parametrize("actions", [INDEXES, DELETES], ids=["index", "delete"])
def test_a_batch_closes_once_it_reaches_max_bytes(actions):
    one, _ = run_sink([], actions[:1])
    item = len(one.calls[0])  # every action here has the same size
    server, _ = run_sink([], actions, max_bytes=item + 1, concurrency=1)
    assert actions_per_call(server) == [2, 2, 2]
    exact, _ = run_sink([], actions, max_bytes=2 * item, concurrency=1)
    assert actions_per_call(exact) == [2, 2, 2]


def test_bytes_sent_is_every_body_that_got_an_answer():
    server, stats = run_sink([], INDEXES + DELETES, max_docs=4, concurrency=1)
    assert stats.bytes_sent == sum(len(body) for body in server.calls)


def test_every_failure_is_counted_and_the_first_ones_kept():
    n = defaults.KEPT_FAILURES + 1
    _server, stats = run_sink([[400] * n], [("index", f"{i:04}") for i in range(n)], max_docs=n)
    assert stats.failed == n
    assert stats.failure_types == {"mapper_parsing_exception": n}
    assert len(stats.failures) == defaults.KEPT_FAILURES
    assert stats.failures[0].doc_id == "0000"


def test_a_rejected_delete_names_its_id_and_action():
    _server, stats = run_sink([[400]], [("delete", "gone")], max_docs=1)
    failure = stats.failures[0]
    assert (failure.doc_id, failure.action, failure.status) == ("gone", "delete", 400)


def test_an_item_answer_without_details_is_still_a_failure():
    """Proxies and older versions answer sparsely; absent fields get explicit defaults."""
    script = [[{}, {"status": 400}, {"status": 400, "error": {"reason": "x" * 600}}]]
    _server, stats = run_sink(script, INDEXES[:3], max_docs=3)
    first, second, third = stats.failures
    assert (first.status, first.error_type, first.reason) == (500, "unknown", "")
    assert (second.status, second.error_type, second.reason) == (400, "unknown", "")
    assert third.reason == "x" * 500


def test_an_answer_missing_items_fails_the_batch():
    """Counting only the answered items would lose the others silently."""
    with pytest.raises(SinkError, match=r"answers 2 of 3 actions.*is a proxy truncating"):
        run_sink(["short"], INDEXES[:3], max_docs=3)


def test_after_a_lost_batch_adding_and_closing_report_it_without_hanging():
    async def go() -> None:
        async with ScriptedBulkServer([400]) as server:
            transport = HttpBulkTransport(EsSettings(server.url))
            sink = BulkSink(transport, "idx", backoff=0, max_docs=1, concurrency=1)
            try:
                with pytest.raises(SinkError, match="rejected: HTTP 400"):
                    for i in range(1000):
                        await sink.add_index(str(i), b"{}")
                with pytest.raises(SinkError, match="rejected: HTTP 400"):
                    await sink.add_delete("x")
                with pytest.raises(SinkError, match="rejected: HTTP 400"):
                    await asyncio.wait_for(sink.close(), timeout=30)
            finally:
                await transport.close()

    asyncio.run(go())


def test_abort_returns_only_when_no_request_is_in_flight():
    in_flight: list[str] = []

    class Stalling:
        async def send(self, body: bytes) -> list[dict[str, Any]]:
            in_flight.append("sending")
            try:
                await asyncio.Event().wait()
            finally:
                in_flight.remove("sending")
            return []

        async def close(self) -> None:
            pass

    async def go() -> None:
        sink = BulkSink(Stalling(), "idx", max_docs=1, concurrency=2)
        await sink.add_index("a", b"{}")
        await sink.add_index("b", b"{}")
        while len(in_flight) < 2:
            await asyncio.sleep(0)
        await sink.abort()
        assert in_flight == []

    asyncio.run(asyncio.wait_for(go(), timeout=30))


def test_backoff_doubles_per_attempt_with_half_to_one_and_a_half_jitter(monkeypatch):
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(sink_module.asyncio, "sleep", record)

    async def go(jitter: float) -> None:
        monkeypatch.setattr(sink_module.random, "random", lambda: jitter)
        sink = BulkSink(Unused(), "idx", backoff=2.0)
        for attempt in range(3):
            await sink._sleep(attempt)
        await sink.abort()
        assert sink.stats.retries == 3

    asyncio.run(go(0.0))
    asyncio.run(go(1.0))
    assert slept == [1.0, 2.0, 4.0, 3.0, 6.0, 12.0]


class Unused:
    async def send(self, body: bytes) -> list[dict[str, Any]]:
        raise AssertionError(orjson.loads(body))

    async def close(self) -> None:
        pass


class _Unavailable:
    """A cluster that drops ``down`` requests (restarting, paused), then answers."""

    def __init__(self, down: int) -> None:
        self.down = down
        self.calls = 0

    async def send(self, body: bytes) -> list[dict[str, Any]]:
        from connectors.es.bulk_transport import BulkUnavailable

        self.calls += 1
        if self.calls <= self.down:
            raise BulkUnavailable("Connection refused")
        return [{"index": {"_id": "1", "status": 201, "result": "created"}}]

    async def close(self) -> None:
        pass


@pytest.mark.parametrize(("retry_seconds", "ok"), [(0.0, False), (30.0, True)])
def test_a_batch_is_retried_past_its_attempts_until_the_deadline(retry_seconds, ok):
    """A restart outlasts 5 quick attempts: the deadline, not the count, decides."""
    transport = _Unavailable(down=8)

    async def go() -> SinkStats:
        sink = BulkSink(transport, "idx", backoff=0, max_retries=2, retry_seconds=retry_seconds)
        await sink.add_index("1", b"{}")
        return await sink.close()

    if ok:
        assert asyncio.run(go()).indexed == 1
        assert transport.calls == 9
    else:
        refused = r"failed after 3 attempts in \ds of failing writes .*: Connection refused"
        with pytest.raises(SinkError, match=refused):
            asyncio.run(go())
        assert transport.calls == 3


def test_backoff_is_capped_so_a_long_outage_is_polled(monkeypatch):
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(sink_module.asyncio, "sleep", record)
    monkeypatch.setattr(sink_module.random, "random", lambda: 0.5)
    sink = BulkSink.__new__(BulkSink)  # no workers: only its pauses are tried
    sink.backoff, sink.backoff_cap, sink.stats, sink._fatal = 0.5, 10.0, SinkStats(), None
    for attempt in (0, 3, 30, 5000):
        asyncio.run(sink._sleep(attempt))
    assert slept == [0.5, 4.0, defaults.ES_RETRY_BACKOFF_CAP_SECONDS, 10.0]
    slept.clear()
    sink.backoff, sink.backoff_cap = 0.05, 1.0
    for attempt in (0, 3, 30):
        asyncio.run(sink._sleep(attempt))
    assert slept == [0.05, 0.4, 1.0]
