"""The sync engine: full sync (skip unchanged, then delete stale) and incremental sync.

Rules that protect the user's data:
* stale documents are deleted only after the source was read to the end without error;
* a deletion of more than ``max_delete_fraction`` of the index needs an explicit override;
* a cursor is returned for persisting only when the incremental sync succeeded.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connectors import defaults
from connectors.documents import (
    ACCESS_FIELD,
    ACCESS_FIELD_MAPPING,
    HASH_FIELD,
    DocumentError,
    PreparedDoc,
    SourceDocument,
    hash64,
    prepare,
    version_hash,
)
from connectors.es.bulk_transport import BulkTransport, ClientBulkTransport
from connectors.es.lease import Timing
from connectors.es.rest import EsClient, NotFoundError
from connectors.es.sink import BulkSink, ItemFailure, SinkError, SinkStats
from connectors.es.snapshot import IndexSnapshot
from connectors.lazy import lazy_module
from connectors.source import BaseDataSource, Operation, SourceError
from connectors.stale import delete_stale

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")


class SyncError(RuntimeError):
    pass


class MassDeleteRefused(SyncError):
    pass


class SyncCanceled(SyncError):
    pass


@dataclass
class SyncOptions:
    max_delete_fraction: float = defaults.MAX_DELETE_FRACTION
    allow_mass_delete: bool = False
    bulk_max_docs: int = defaults.BULK_MAX_DOCS
    bulk_max_bytes: int = defaults.BULK_MAX_BYTES
    bulk_concurrency: int = defaults.BULK_CONCURRENCY
    # A batch is retried past BULK_MAX_RETRIES until this deadline (CONNECTORS_ES_RETRY_SECONDS).
    bulk_retry_seconds: float = defaults.ES_RETRY_DEADLINE_SECONDS
    # The first pause between attempts, doubled up to the cap (CONNECTORS_ES_RETRY_BACKOFF_*).
    bulk_backoff_seconds: float = defaults.BULK_BACKOFF_SECONDS
    bulk_backoff_cap_seconds: float = defaults.ES_RETRY_BACKOFF_CAP_SECONDS
    index_settings: dict[str, Any] = field(default_factory=dict)
    # Documents read between checkpoints and version comparisons; ids per scroll page.
    source_batch: int = defaults.SOURCE_BATCH
    scan_page: int = defaults.SCAN_PAGE
    # How _bulk bodies are sent; None: through the client. The caller owns and closes it.
    bulk_transport: BulkTransport | None = None
    # Awaited between batches; raise SyncCanceled to stop (honours job cancelation).
    checkpoint: Callable[[], Awaitable[None]] | None = None
    # Called between batches with (documents seen, documents written): progress displays.
    progress: Callable[[int, int], None] | None = None
    # For the job around the sync: its lease's timing, and how long a source retries.
    leases: Timing = field(default_factory=Timing)
    source_retry_seconds: float = defaults.SOURCE_RETRY_SECONDS


@dataclass
class SyncResult:
    job_type: str
    seen: int = 0
    indexed: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0
    bytes_sent: int = 0
    retries: int = 0
    failures: list[ItemFailure] = field(default_factory=list)
    error: str | None = None
    read_complete: bool = False
    cursor: Any = None
    seconds: float = 0.0
    # This process's CPU over the same span (every thread). It moves less than the wall time
    # on a busy machine, but it still moves (cache and frequency contention: up to 22 % across
    # pairs of unchanged runs under load), which is why the bench gate's default basis is the
    # ratio to a ceiling instead (docs/performance.md).
    cpu_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and self.failed == 0

    @property
    def docs_per_second(self) -> float:
        return self.seen / self.seconds if self.seconds else 0.0

    def absorb(self, stats: SinkStats) -> None:
        self.indexed += stats.indexed
        self.deleted += stats.deleted
        self.failed += stats.failed
        self.bytes_sent += stats.bytes_sent
        self.retries += stats.retries
        self.failures += stats.failures[: defaults.KEPT_FAILURES - len(self.failures)]


async def ensure_index(client: EsClient, index: str, settings: dict[str, Any]) -> None:
    if await client.indices.exists(index=index):
        return
    mappings = {
        "properties": {
            HASH_FIELD: {"type": "keyword", "index": False, "doc_values": True},
            ACCESS_FIELD: ACCESS_FIELD_MAPPING,
        },
        # JSON floats default to 32-bit `float`, which rejects large doubles and rounds the
        # indexed value; sources hand us doubles.
        "dynamic_templates": [
            {"doubles": {"match_mapping_type": "double", "mapping": {"type": "double"}}}
        ],
    }
    try:
        await client.indices.create(index=index, settings=settings or None, mappings=mappings)
    except Exception as exc:  # a concurrent creator wins the race
        if "resource_already_exists_exception" not in str(exc):
            raise


def _sink(client: EsClient, index: str, options: SyncOptions) -> BulkSink:
    return BulkSink(
        options.bulk_transport or ClientBulkTransport(client),
        index,
        max_docs=options.bulk_max_docs,
        max_bytes=options.bulk_max_bytes,
        concurrency=options.bulk_concurrency,
        retry_seconds=options.bulk_retry_seconds,
        backoff=options.bulk_backoff_seconds,
        backoff_cap=options.bulk_backoff_cap_seconds,
    )


async def full_sync(
    source: BaseDataSource,
    client: EsClient,
    index: str,
    options: SyncOptions | None = None,
) -> SyncResult:
    options = options or SyncOptions()
    started, cpu_started = time.perf_counter(), time.process_time()
    result = SyncResult("full")
    await ensure_index(client, index, options.index_settings)
    snapshot = await IndexSnapshot.load(client, index, options.scan_page)
    sink = _sink(client, index, options)
    batch: list[PreparedDoc] = []
    docs: AsyncIterator[SourceDocument] | None = None
    try:
        # With versions and something already indexed, compare versions first and fetch
        # only changed documents; a first sync streams everything in one pass.
        docs = (
            _changed_docs(source, snapshot, result, options)
            if source.supports_versions and len(snapshot)
            else source.get_docs()
        )
        async for doc in docs:
            result.seen += 1
            try:
                batch.append(prepare(doc))
            except DocumentError as exc:
                _record_bad_doc(result, snapshot, doc.id, exc)
            if len(batch) >= options.source_batch:
                await _send_changed(batch, snapshot, sink, result)
                batch = []
                if options.checkpoint:
                    await options.checkpoint()
                if options.progress:
                    options.progress(result.seen, sink.stats.indexed)
        await _send_changed(batch, snapshot, sink, result)
        result.read_complete = True
    except SyncCanceled:
        await sink.abort()
        raise
    except (SinkError, Exception) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        await _aclose(docs)  # now, not at interpreter exit: the source's reads end cleanly
    try:
        result.absorb(await sink.close())
    except SinkError as exc:
        result.absorb(sink.stats)  # what was written and refused before it failed is counted
        result.error = result.error or f"SinkError: {exc}"
        result.read_complete = False
    if result.read_complete and result.error is None:
        await _delete_stale(source, client, index, snapshot, options, result)
    await client.indices.refresh(index=index)
    result.seconds = time.perf_counter() - started
    result.cpu_seconds = time.process_time() - cpu_started
    return result


async def _changed_docs(
    source: BaseDataSource, snapshot: IndexSnapshot, result: SyncResult, options: SyncOptions
) -> AsyncIterator[SourceDocument]:
    """Documents whose version differs from the index's (or that it lacks); unchanged ones
    are marked seen and counted, never fetched."""
    pending: list[tuple[str, str]] = []

    async def changed(pairs: list[tuple[str, str]]) -> AsyncIterator[SourceDocument]:
        ids = np.fromiter((hash64(i.encode()) for i, _ in pairs), np.uint64, len(pairs))
        versions = np.fromiter((version_hash(v) for _, v in pairs), np.uint64, len(pairs))
        unchanged = snapshot.observe(ids, versions)
        result.unchanged += int(unchanged.sum())
        result.seen += int(unchanged.sum())
        wanted = [i for (i, _), same in zip(pairs, unchanged.tolist(), strict=True) if not same]
        if wanted:
            fetched = source.get_docs_by_ids(wanted)
            try:
                async for doc in fetched:
                    yield doc
            finally:
                await _aclose(fetched)
        if options.checkpoint:
            await options.checkpoint()
        if options.progress:
            options.progress(result.seen, 0)

    versions = source.get_versions()
    batch: AsyncIterator[SourceDocument] | None = None
    try:
        async for pair in versions:
            pending.append(pair)
            if len(pending) >= options.source_batch:
                batch = changed(pending)
                async for doc in batch:
                    yield doc
                pending = []
        if pending:
            batch = changed(pending)
            async for doc in batch:
                yield doc
    finally:  # closed by the consumer part-way: close what this was reading, at once
        await _aclose(batch)
        await _aclose(versions)


async def _aclose(iterator: AsyncIterator[Any] | None) -> None:
    close = getattr(iterator, "aclose", None)
    if close is not None:
        # A source failing to clean up must not hide how the sync itself ended.
        with contextlib.suppress(Exception):
            await close()


def _record_bad_doc(
    result: SyncResult, snapshot: IndexSnapshot | None, raw_id: Any, exc: Exception
) -> None:
    """A document that cannot be sent is reported, and its old version is kept (not stale)."""
    doc_id = "?" if raw_id is None else str(raw_id)
    result.failed += 1
    if len(result.failures) < defaults.KEPT_FAILURES:
        result.failures.append(ItemFailure(doc_id, "index", 0, "document_error", str(exc)))
    if snapshot is not None and raw_id not in (None, ""):
        snapshot.mark_seen(np.array([hash64(doc_id.encode())], dtype=np.uint64))


async def _send_changed(
    batch: list[PreparedDoc], snapshot: IndexSnapshot, sink: BulkSink, result: SyncResult
) -> None:
    if not batch:
        return
    ids = np.fromiter((d.id_hash for d in batch), np.uint64, len(batch))
    contents = np.fromiter((d.content_hash for d in batch), np.uint64, len(batch))
    unchanged = snapshot.observe(ids, contents)
    result.unchanged += int(unchanged.sum())
    await sink.add_many(
        [
            (doc.doc_id, doc.body)
            for doc, skip in zip(batch, unchanged.tolist(), strict=True)
            if not skip
        ]
    )


async def _delete_stale(
    source: BaseDataSource,
    client: EsClient,
    index: str,
    snapshot: IndexSnapshot,
    options: SyncOptions,
    result: SyncResult,
) -> None:
    stale = snapshot.stale_count()
    if not stale:
        return
    fraction = stale / len(snapshot)
    if fraction > options.max_delete_fraction and not options.allow_mass_delete:
        raise MassDeleteRefused(
            f"refusing to delete {stale} of {len(snapshot)} documents ({fraction:.0%}) from "
            f"{index!r}: more than the allowed {options.max_delete_fraction:.0%}. Nothing was "
            "deleted; if the source really lost these rows, rerun with the mass-delete override"
        )
    sink = _sink(client, index, options)
    try:
        stats = await delete_stale(source, client, index, snapshot, sink, options.scan_page)
    except SourceError as exc:  # the source would not confirm them gone: nothing was deleted
        result.error = f"SourceError: {exc}"
        return
    result.absorb(stats)


async def incremental_sync(
    source: BaseDataSource,
    client: EsClient,
    index: str,
    cursor: Any,
    options: SyncOptions | None = None,
) -> SyncResult:
    options = options or SyncOptions()
    started, cpu_started = time.perf_counter(), time.process_time()
    result = SyncResult("incremental")
    await ensure_index(client, index, options.index_settings)
    sink = _sink(client, index, options)
    ops = source.get_docs_incrementally(cursor)
    try:
        async for op in ops:
            result.seen += 1
            await _apply(op, sink, result)
            # Every operation counts towards the batch: a run of deletions or bad documents
            # still reaches the checkpoint, where cancelation is honoured.
            if result.seen % options.source_batch == 0:
                if options.checkpoint:
                    await options.checkpoint()
                if options.progress:
                    options.progress(result.seen, sink.stats.indexed)
        result.read_complete = True
    except SyncCanceled:
        await sink.abort()
        raise
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        await _aclose(ops)
    try:
        result.absorb(await sink.close())
    except SinkError as exc:
        result.error = result.error or f"SinkError: {exc}"
    if result.read_complete and result.ok:
        result.cursor = source.next_cursor()
    with contextlib.suppress(NotFoundError):
        await client.indices.refresh(index=index)
    result.seconds = time.perf_counter() - started
    result.cpu_seconds = time.process_time() - cpu_started
    return result


async def _apply(op: Operation, sink: BulkSink, result: SyncResult) -> None:
    if op.op == "delete":
        await sink.add_delete(op.doc_id)
        return
    try:
        doc = prepare(op.doc or SourceDocument(op.doc_id))
    except DocumentError as exc:
        _record_bad_doc(result, None, op.doc_id, exc)
        return
    await sink.add_index(doc.doc_id, doc.body)
