"""What the engine does with bad documents, rejected items and failures, checked exactly:
reported with id and reason, nothing else lost, no cursor persisted past them."""

from __future__ import annotations

import time

import numpy as np
import pytest

from connectors import defaults
from connectors.documents import HASH_FIELD, SourceDocument
from connectors.es.bulk_transport import BulkRejected
from connectors.es.snapshot import IndexSnapshot
from connectors.source import Operation
from connectors.sync import SyncOptions, ensure_index, full_sync, incremental_sync
from tests.connectors.es_sync import ids_in, sync
from tests.connectors.fakes import ListSource, docs

UNSERIALISABLE = object()


def test_bad_documents_are_each_reported_and_the_rest_of_the_sync_goes_on(es_endpoint, index):
    sync(es_endpoint, lambda c: full_sync(ListSource(docs(5)), c, index))
    rows = docs(5)
    rows[2]["title"] = rows[3]["title"] = UNSERIALISABLE
    rows[4]["title"] = "changed"
    rows.append({"title": "no id"})
    result = sync(es_endpoint, lambda c: full_sync(ListSource(rows), c, index))
    assert (result.error, result.read_complete, result.ok) == (None, True, False)
    assert (result.seen, result.indexed, result.unchanged, result.failed) == (6, 1, 2, 3)
    assert [f.doc_id for f in result.failures] == ["2", "3", "?"]
    failure = result.failures[0]
    assert (failure.action, failure.status, failure.error_type) == ("index", 0, "document_error")
    assert "cannot be serialised" in failure.reason
    assert result.deleted == 0, "a document that could not be read this time is not stale"
    assert ids_in(es_endpoint, index) == {str(i) for i in range(5)}


def test_an_id_over_elasticsearchs_limit_fails_that_document_only(es_endpoint, index):
    """Elasticsearch refuses a whole bulk request over one _id of more than 512 bytes:
    the engine must fail that document by name and send the others."""
    rows = docs(3)
    rows.append({"_id": "k/" + "\u00e9" * 300, "title": "long"})  # 602 bytes in UTF-8
    rows.append({"_id": "x" * 512, "title": "at the limit"})
    result = sync(es_endpoint, lambda c: full_sync(ListSource(rows), c, index))
    assert (result.indexed, result.failed, result.ok) == (4, 1, False)
    (failure,) = result.failures
    assert failure.doc_id.startswith("k/") and failure.error_type == "document_error"
    assert "602 bytes, over Elasticsearch's 512-byte limit" in failure.reason
    assert ids_in(es_endpoint, index) == {"0", "1", "2", "x" * 512}


def test_failures_kept_are_capped_across_bad_and_rejected_documents(es_endpoint, index):
    sync(es_endpoint, lambda c: full_sync(ListSource(docs(1)), c, index))  # maps n as long
    bad = [{"_id": f"b{i}", "n": UNSERIALISABLE} for i in range(60)]
    rejected = [{"_id": f"r{i}", "n": "not a number"} for i in range(61)]
    result = sync(es_endpoint, lambda c: full_sync(ListSource(docs(1) + bad + rejected), c, index))
    assert result.failed == 121
    assert len(result.failures) == defaults.KEPT_FAILURES
    assert result.failures[0].doc_id == "b0" and result.failures[-1].doc_id == "r39"


def test_a_failed_bulk_write_fails_the_full_sync_and_deletes_nothing(es_endpoint, index):
    sync(es_endpoint, lambda c: full_sync(ListSource(docs(10)), c, index))

    class Refusing:
        async def send(self, body: bytes):
            raise BulkRejected(400, "scripted refusal")

        async def close(self) -> None:
            pass

    rows = docs(8, title="changed")  # 8 and 9 would be stale
    options = SyncOptions(bulk_transport=Refusing())
    result = sync(es_endpoint, lambda c: full_sync(ListSource(rows), c, index, options))
    assert result.error and result.error.startswith("SinkError: ")
    assert "scripted refusal" in result.error
    assert not result.read_complete
    assert result.deleted == 0
    assert len(ids_in(es_endpoint, index)) == 10


@pytest.mark.parametrize("sync_kind", ["full", "incremental"])
def test_a_source_failure_is_reported_with_its_type(es_endpoint, index, sync_kind):
    changes = [Operation("index", "a", SourceDocument("a", {"v": 1}))] * 3
    source = ListSource(docs(3), changes=changes, fail_after=1)
    run = full_sync if sync_kind == "full" else (lambda s, c, i: incremental_sync(s, c, i, None))
    result = sync(es_endpoint, lambda c: run(source, c, index))
    assert result.error and result.error.startswith("SourceError: connection lost")


def test_an_incremental_sync_goes_past_bad_documents_but_keeps_its_cursor(es_endpoint, index):
    sync(es_endpoint, lambda c: full_sync(ListSource(docs(2, start=0)), c, index))
    changes = [
        Operation("index", "a", SourceDocument("a", {"v": 1})),
        Operation("delete", "0"),
        Operation("index", "c"),  # an index operation without fields: an empty document
        Operation("index", "d", SourceDocument("d", {"v": UNSERIALISABLE})),
        Operation("index", "e", SourceDocument("e", {"v": 2})),
        Operation("delete", "never-indexed"),
    ]
    checkpoints: list[int] = []
    progress: list[int] = []

    async def checkpoint() -> None:
        checkpoints.append(1)

    options = SyncOptions(
        source_batch=2, checkpoint=checkpoint, progress=lambda seen, _w: progress.append(seen)
    )
    source = ListSource([], changes=changes, cursor={"t": 7})
    started = time.perf_counter()
    result = sync(es_endpoint, lambda c: incremental_sync(source, c, index, {"t": 1}, options))
    wall = time.perf_counter() - started
    assert (result.error, result.read_complete) == (None, True)
    assert (result.seen, result.indexed, result.deleted, result.failed) == (6, 3, 1, 1)
    failure = result.failures[0]
    assert (failure.doc_id, failure.action, failure.status, failure.error_type) == (
        "d",
        "index",
        0,
        "document_error",
    )
    assert "cannot be serialised" in failure.reason
    assert result.cursor is None, "the next incremental sync must see 'd' again"
    assert ids_in(es_endpoint, index) == {"1", "a", "c", "e"}
    assert progress == [2, 4, 6] and len(checkpoints) == 3
    assert 0 < result.seconds <= wall


def test_an_incremental_sync_with_a_rejected_document_keeps_its_cursor(es_endpoint, index):
    sync(es_endpoint, lambda c: full_sync(ListSource(docs(1)), c, index))  # maps n as long
    changes = [Operation("index", "x", SourceDocument("x", {"n": "not a number"}))]
    source = ListSource([], changes=changes, cursor={"t": 7})
    result = sync(es_endpoint, lambda c: incremental_sync(source, c, index, {"t": 1}))
    assert (result.error, result.failed, result.cursor) == (None, 1, None)


def test_an_incremental_sync_whose_writes_fail_reports_the_sink_and_keeps_its_cursor(
    es_endpoint, index
):
    class Refusing:
        async def send(self, body: bytes):
            raise BulkRejected(400, "scripted refusal")

        async def close(self) -> None:
            pass

    changes = [Operation("index", "x", SourceDocument("x", {"n": 1}))]
    source = ListSource([], changes=changes, cursor={"t": 7})
    options = SyncOptions(bulk_transport=Refusing())
    result = sync(es_endpoint, lambda c: incremental_sync(source, c, index, {"t": 1}, options))
    assert result.error and result.error.startswith("SinkError: ")
    assert result.cursor is None


def test_the_index_is_created_with_the_given_settings_and_an_unsearchable_hash(es_endpoint, index):
    options = SyncOptions(index_settings={"index": {"number_of_shards": 2}})
    sync(es_endpoint, lambda c: full_sync(ListSource(docs(1)), c, index, options))

    async def read(client):
        settings = await client.indices.get_settings(index=index)
        mapping = await client.indices.get_mapping(index=index)
        return settings[index]["settings"]["index"], mapping[index]["mappings"]

    settings, mappings = sync(es_endpoint, read)
    assert settings["number_of_shards"] == "2"
    assert mappings["properties"][HASH_FIELD]["index"] is False


def test_an_index_created_concurrently_is_not_an_error(es_endpoint, index):
    async def race(client):
        await ensure_index(client, index, {})

        async def not_yet(**_kwargs):
            return False  # as a second creator sees it, just before the first one wins

        client.indices.exists = not_yet
        await ensure_index(client, index, {})

    sync(es_endpoint, race)


def test_documents_written_without_a_hash_are_rewritten(es_endpoint, index):
    """Documents put into the index by someone else have no content hash: never unchanged."""

    async def foreign(client):
        await ensure_index(client, index, {})
        await client.index(index=index, id="0", document={"n": 0, "title": "t0"}, refresh=True)

    sync(es_endpoint, foreign)
    result = sync(es_endpoint, lambda c: full_sync(ListSource(docs(1)), c, index))
    assert (result.error, result.indexed, result.unchanged) == (None, 1, 0)


def test_the_snapshot_finds_only_ids_it_holds_beyond_either_end():
    for held in ([50], [50, 60], [10, 50, 60]):
        snapshot = IndexSnapshot(np.array(held, np.uint64), np.array(held, np.uint64))
        probe = np.array([5, 50, 70], np.uint64)
        assert snapshot.observe(probe, probe).tolist() == [False, True, False]
        assert snapshot.stale_count() == len(held) - 1


def test_marking_seen_protects_from_deletion_and_ignores_unknown_ids():
    snapshot = IndexSnapshot(np.array([10, 20], np.uint64), np.array([1, 2], np.uint64))
    snapshot.mark_seen(np.array([20, 99], np.uint64))
    assert snapshot.is_stale(np.array([10, 20, 99], np.uint64)).tolist() == [True, False, False]
    empty = IndexSnapshot.empty()
    empty.mark_seen(np.array([1], np.uint64))
    assert (len(empty), empty.stale_count()) == (0, 0)


class ClosingSource(ListSource):
    """Records whether its readers were closed: a source holds a transaction open until
    its generator finishes."""

    supports_versions = False

    def __init__(self, docs_: list[dict]) -> None:
        super().__init__(docs_, changes=[Operation("index", str(i)) for i in range(50)])
        self.open_readers = 0

    async def get_docs(self):
        self.open_readers += 1
        try:
            async for doc in super().get_docs():
                yield doc
        finally:
            self.open_readers -= 1

    async def get_docs_incrementally(self, cursor):
        self.open_readers += 1
        try:
            async for op in super().get_docs_incrementally(cursor):
                yield op
        finally:
            self.open_readers -= 1


@pytest.mark.parametrize("sync_kind", ["full", "incremental"])
def test_a_sync_that_stops_early_closes_the_sources_reader_at_once(es_endpoint, index, sync_kind):
    class Refusing:
        async def send(self, body: bytes):
            raise BulkRejected(400, "scripted refusal")

        async def close(self) -> None:
            pass

    source = ClosingSource(docs(50))
    options = SyncOptions(
        bulk_transport=Refusing(), bulk_max_docs=5, bulk_concurrency=1, source_batch=5
    )

    async def go(client):
        if sync_kind == "full":
            result = await full_sync(source, client, index, options)
        else:
            result = await incremental_sync(source, client, index, None, options)
        return result, source.open_readers  # before the event loop's own clean-up

    result, open_readers = sync(es_endpoint, go)
    assert result.error and "scripted refusal" in result.error
    assert not result.read_complete
    assert open_readers == 0
