import pytest
from elasticsearch import ConnectionError as EsConnectionError

from connectors.es.sink import BulkSink, SinkError
from tests.connectors.fakes import ScriptedBulkClient


async def fill(sink: BulkSink, n: int) -> None:
    for i in range(n):
        await sink.add_index(str(i), b'{"n":%d}' % i)


def run(coro):
    import asyncio

    return asyncio.run(coro)


def test_batches_by_count_and_every_item_is_counted():
    async def go():
        client = ScriptedBulkClient([])
        sink = BulkSink(client, "idx", max_docs=10, concurrency=2, backoff=0)  # type: ignore[arg-type]
        await fill(sink, 25)
        stats = await sink.close()
        return client, stats

    client, stats = run(go())
    assert len(client.calls) == 3
    assert stats.indexed == 25
    assert stats.failed == 0


def test_batches_by_bytes():
    async def go():
        client = ScriptedBulkClient([])
        sink = BulkSink(client, "idx", max_docs=1000, max_bytes=200, backoff=0)  # type: ignore[arg-type]
        await fill(sink, 10)
        await sink.close()
        return client

    client = run(go())
    assert len(client.calls) > 1
    assert all(len(body) <= 200 + 60 for body in client.calls)


def test_connection_errors_and_429_are_retried_with_backoff():
    async def go():
        client = ScriptedBulkClient([EsConnectionError("refused"), [429, 201, 429], "ok"])
        sink = BulkSink(client, "idx", max_docs=3, concurrency=1, backoff=0)  # type: ignore[arg-type]
        await fill(sink, 3)
        return client, await sink.close()

    client, stats = run(go())
    assert stats.indexed == 3
    assert stats.retries == 2
    # The retry after per-item 429s resends only the two rejected items.
    assert client.calls[-1].count(b'{"index"') == 2


def test_rejected_items_are_reported_with_id_and_reason_not_dropped():
    async def go():
        client = ScriptedBulkClient([[201, 400, 201]])
        sink = BulkSink(client, "idx", max_docs=3, backoff=0)  # type: ignore[arg-type]
        await fill(sink, 3)
        return await sink.close()

    stats = run(go())
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
    async def go():
        client = ScriptedBulkClient([EsConnectionError("down")] * 10)
        sink = BulkSink(client, "idx", max_docs=2, max_retries=2, backoff=0)  # type: ignore[arg-type]
        await fill(sink, 2)
        await sink.close()

    with pytest.raises(SinkError, match="failed after 3 attempts"):
        run(go())


def test_persistent_429_items_end_as_failures():
    async def go():
        client = ScriptedBulkClient([[429]] * 10)
        sink = BulkSink(client, "idx", max_docs=1, max_retries=2, backoff=0)  # type: ignore[arg-type]
        await fill(sink, 1)
        return await sink.close()

    stats = run(go())
    assert stats.failed == 1
    assert stats.failures[0].status == 429
