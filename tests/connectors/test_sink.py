"""The bulk sink through its production transport (``HttpBulkTransport``) against a real
HTTP server that answers from a script: batching, retries on 429/5xx and dropped
connections, per-item failures, auth."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from connectors.es.bulk_transport import BulkTransport, HttpBulkTransport
from connectors.es.client import EsSettings
from connectors.es.sink import BulkSink, SinkError, SinkStats
from tests.connectors.bulk_server import ScriptedBulkServer


async def fill(sink: BulkSink, n: int) -> None:
    for i in range(n):
        await sink.add_index(str(i), b'{"n":%d}' % i)


def through_server(
    script: list[Any],
    n: int,
    settings: Callable[[str], EsSettings] = EsSettings,
    **sink_options: Any,
) -> tuple[ScriptedBulkServer, SinkStats]:
    async def go() -> tuple[ScriptedBulkServer, SinkStats]:
        async with ScriptedBulkServer(script) as server:
            transport: BulkTransport = HttpBulkTransport(settings(server.url))
            try:
                sink = BulkSink(transport, "idx", backoff=0, **sink_options)
                await fill(sink, n)
                return server, await sink.close()
            finally:
                await transport.close()

    return asyncio.run(go())


def test_batches_by_count_and_every_item_is_counted():
    server, stats = through_server([], 25, max_docs=10, concurrency=2)
    assert len(server.calls) == 3
    assert (stats.indexed, stats.failed, stats.batches) == (25, 0, 3)
    assert all(path.startswith("/_bulk?filter_path=") for path in server.paths)


def test_batches_by_bytes():
    server, _stats = through_server([], 10, max_docs=1000, max_bytes=200)
    assert len(server.calls) > 1
    assert all(len(body) <= 200 + 60 for body in server.calls)


def test_whole_request_429_and_503_are_retried():
    server, stats = through_server([429, 503, "ok"], 3, max_docs=3, concurrency=1)
    assert stats.indexed == 3
    assert stats.retries == 2
    assert len(server.calls) == 3
    assert server.calls[0] == server.calls[-1], "a retry re-sends the same ids and bodies"


def test_dropped_connections_and_item_429s_are_retried_resending_only_the_rejected():
    server, stats = through_server(["drop", [429, 201, 429], "ok"], 3, max_docs=3, concurrency=1)
    assert stats.indexed == 3
    assert stats.retries == 2
    assert server.calls[-1].count(b'{"index"') == 2
    assert b'"_id":"1"' not in server.calls[-1]


def test_a_non_retryable_status_fails_the_batch_at_once():
    with pytest.raises(SinkError, match="rejected: HTTP 400"):
        through_server([400], 2, max_docs=2)


def test_rejected_items_are_reported_with_id_and_reason_not_dropped():
    _server, stats = through_server([[201, 400, 201]], 3, max_docs=3)
    assert (stats.indexed, stats.failed) == (2, 1)
    failure = stats.failures[0]
    assert (failure.doc_id, failure.status, failure.error_type) == (
        "1",
        400,
        "mapper_parsing_exception",
    )
    assert failure.reason == "scripted 400"
    assert stats.failure_types == {"mapper_parsing_exception": 1}


def test_a_batch_that_never_gets_through_fails_the_sink():
    with pytest.raises(SinkError, match="failed after 3 attempts"):
        through_server(["drop"] * 10, 2, max_docs=2, max_retries=2)


def test_persistent_429_items_end_as_failures_and_fail_the_sink_naming_the_refusal():
    """Items refused busy until the deadline: each is counted as failed with its status,
    and, since the cluster took nothing for the whole deadline, the sink fails in one line
    naming the refusal (a block refuses every later batch too: waiting each out was the
    107 s sync of a 10 s deadline)."""

    async def go() -> tuple[str, SinkStats]:
        async with ScriptedBulkServer([[429]] * 10) as server:
            transport = HttpBulkTransport(EsSettings(server.url))
            sink = BulkSink(transport, "idx", backoff=0, max_docs=1, max_retries=2)
            try:
                await fill(sink, 1)
                with pytest.raises(SinkError) as failed:
                    await sink.close()
                return str(failed.value), sink.stats
            finally:
                await transport.close()

    message, stats = asyncio.run(go())
    assert stats.failed == 1
    assert stats.failures[0].status == 429
    assert "refused writes" in message and "429" in message, message


def test_deleting_a_document_already_gone_counts_as_no_deletion():
    async def go() -> SinkStats:
        async with ScriptedBulkServer([[200, 404, 200]]) as server:
            transport = HttpBulkTransport(EsSettings(server.url))
            try:
                sink = BulkSink(transport, "idx", max_docs=3, backoff=0)
                for doc_id in ("a", "b", "c"):
                    await sink.add_delete(doc_id)
                return await sink.close()
            finally:
                await transport.close()

    stats = asyncio.run(go())
    assert (stats.deleted, stats.failed) == (2, 0)


def test_basic_auth_and_compatibility_headers_are_sent():
    server, _stats = through_server(
        [], 1, settings=lambda url: EsSettings(url, username="elastic", password="s3cret")
    )
    headers = server.headers[0]
    assert headers["Authorization"] == "Basic ZWxhc3RpYzpzM2NyZXQ="
    assert "compatible-with=8" in headers["Content-Type"]


def test_the_sink_leaves_the_transport_to_its_owner():
    closed: list[bool] = []

    class Counting:
        async def send(self, body: bytes) -> list[dict[str, Any]]:
            return [{"index": {"status": 201}}] * body.count(b'{"index"')

        async def close(self) -> None:
            closed.append(True)

    async def go(run: Callable[[BulkSink], Awaitable[Any]]) -> None:
        sink = BulkSink(Counting(), "idx", backoff=0)
        await fill(sink, 3)
        await run(sink)

    asyncio.run(go(lambda sink: sink.close()))
    asyncio.run(go(lambda sink: sink.abort()))
    assert closed == [], "one transport serves several sinks (sync, then stale deletion)"
