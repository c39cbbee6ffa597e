"""The sync engine across many batches and scroll pages, with exact accounting, against
the session's real Elasticsearch. Small batch and page sizes reach every multi-batch path
with a few dozen documents."""

from __future__ import annotations

import time
from typing import Any

from connectors.sync import SyncOptions, SyncResult, full_sync
from tests.connectors.es_sync import RecordingTransport, ids_in, sync
from tests.connectors.fakes import ListSource, VersionedListSource, docs


class Calls:
    def __init__(self) -> None:
        self.progress: list[tuple[int, int]] = []
        self.checkpoints = 0

    def options(self, **extra: Any) -> SyncOptions:
        return SyncOptions(
            source_batch=5,
            scan_page=4,
            progress=self.on_progress,
            checkpoint=self.checkpoint,
            **extra,
        )

    def on_progress(self, seen: int, written: int) -> None:
        self.progress.append((seen, written))

    async def checkpoint(self) -> None:
        self.checkpoints += 1


def full(
    es_endpoint, source, index, calls: Calls, **extra
) -> tuple[SyncResult, RecordingTransport]:
    async def go(client):
        transport = RecordingTransport(client, unavailable=extra.pop("unavailable", 0))
        options = calls.options(bulk_transport=transport, **extra)
        return await full_sync(source, client, index, options), transport

    return sync(es_endpoint, go)


def counts(result: SyncResult) -> tuple[int, ...]:
    return (result.seen, result.indexed, result.unchanged, result.deleted, result.failed)


def test_a_full_sync_over_many_batches_and_pages_adds_up(es_endpoint, index):
    calls = Calls()
    started = time.perf_counter()
    first, transport = full(es_endpoint, ListSource(docs(23)), index, calls, bulk_max_docs=3)
    wall = time.perf_counter() - started
    assert (first.error, first.read_complete) == (None, True)
    assert counts(first) == (23, 23, 0, 0, 0)
    assert [seen for seen, _ in calls.progress] == [5, 10, 15, 20]
    assert calls.checkpoints == 4
    assert sorted(transport.actions()) == [2] + [3] * 7  # two senders: any order
    assert first.bytes_sent == sum(map(len, transport.bodies))
    assert 0 < first.seconds <= wall

    rows = docs(20)  # 20..22 are gone: deleted over several scroll pages
    for n in (1, 7, 13):
        rows[n]["title"] = "changed"
    second, transport = full(es_endpoint, ListSource(rows), index, Calls(), unavailable=1)
    assert second.error is None
    assert counts(second) == (20, 3, 17, 3, 0)
    assert second.bytes_sent == sum(map(len, transport.bodies)), "writes and deletions"
    assert second.retries == 1, "the write sink's retry, kept after the deletion sink's"
    assert ids_in(es_endpoint, index) == {str(i) for i in range(20)}


def test_bulk_options_shape_the_requests(es_endpoint, index):
    _, transport = full(es_endpoint, ListSource(docs(1)), index, Calls())
    size = len(transport.bodies[0])
    result, transport = full(
        es_endpoint, ListSource(docs(10)), index, Calls(), bulk_max_bytes=2 * size
    )
    assert result.error is None
    assert max(transport.actions()) <= 2


def test_an_unchanged_versioned_resync_compares_batch_by_batch_and_fetches_nothing(
    es_endpoint, index
):
    rows = docs(23)
    full(es_endpoint, VersionedListSource(rows), index, Calls())
    source, calls = VersionedListSource(rows), Calls()
    result, transport = full(es_endpoint, source, index, calls)
    assert result.error is None
    assert counts(result) == (23, 0, 23, 0, 0)
    assert source.fetched == []
    assert transport.bodies == []
    assert calls.progress == [(5, 0), (10, 0), (15, 0), (20, 0), (23, 0)]
    assert calls.checkpoints == 5

    rows = docs(21)
    rows[3]["title"] = rows[18]["title"] = "changed"
    source = VersionedListSource(rows)
    result, _ = full(es_endpoint, source, index, Calls())
    assert result.error is None
    assert counts(result) == (21, 2, 19, 2, 0)
    assert sorted(source.fetched) == ["18", "3"]
    assert ids_in(es_endpoint, index) == {str(i) for i in range(21)}
