"""The bulk sink: batches by count and bytes, a bounded queue for backpressure, concurrent
senders, retries with backoff, and per-item failures counted with their reasons.

Nothing is dropped silently: every item ends up indexed, deleted, or in ``failures``.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

from connectors import defaults
from connectors.es.bulk_transport import (
    BulkRejected,
    BulkTlsError,
    BulkTransport,
    BulkUnavailable,
)

RETRYABLE_STATUS = {429, 502, 503, 504}


class SinkError(RuntimeError):
    """Elasticsearch could not take a batch even after retries."""


@dataclass(frozen=True)
class ItemFailure:
    doc_id: str
    action: str
    status: int
    error_type: str
    reason: str


@dataclass
class SinkStats:
    indexed: int = 0
    deleted: int = 0
    failed: int = 0
    bytes_sent: int = 0
    retries: int = 0
    batches: int = 0
    failures: list[ItemFailure] = field(default_factory=list)
    failure_types: Counter[str] = field(default_factory=Counter)

    def record_failure(self, failure: ItemFailure) -> None:
        self.failed += 1
        self.failure_types[failure.error_type] += 1
        if len(self.failures) < defaults.KEPT_FAILURES:
            self.failures.append(failure)


@dataclass
class _Item:
    action: str  # "index" or "delete"
    doc_id: str
    payload: bytes  # action line (+ source line), newline-terminated


class BulkSink:
    def __init__(
        self,
        transport: BulkTransport,
        index: str,
        *,
        max_docs: int = defaults.BULK_MAX_DOCS,
        max_bytes: int = defaults.BULK_MAX_BYTES,
        concurrency: int = defaults.BULK_CONCURRENCY,
        max_retries: int = defaults.BULK_MAX_RETRIES,
        backoff: float = defaults.BULK_BACKOFF_SECONDS,
        backoff_cap: float = defaults.ES_RETRY_BACKOFF_CAP_SECONDS,
        retry_seconds: float = 0.0,
    ) -> None:
        self.transport = transport  # its owner closes it
        self.index = index
        self.max_docs = max_docs
        self.max_bytes = max_bytes
        self.max_retries = max_retries
        self.backoff, self.backoff_cap = backoff, backoff_cap
        # Beyond max_retries, a batch is retried until this many seconds after its first
        # attempt: a cluster restarting or paused for a minute is waited for, not failed.
        self.retry_seconds = retry_seconds
        self.stats = SinkStats()
        self._buffer: list[_Item] = []
        self._buffer_bytes = 0
        self._queue: asyncio.Queue[list[_Item] | None] = asyncio.Queue(maxsize=concurrency)
        self._workers = [asyncio.create_task(self._work()) for _ in range(concurrency)]
        self._fatal: BaseException | None = None
        self._index_prefix = b'{"index":{"_index":' + orjson.dumps(index) + b',"_id":'

    async def add_index(self, doc_id: str, source: bytes) -> None:
        await self.add_many([(doc_id, source)])

    async def add_many(self, docs: list[tuple[str, bytes]]) -> None:
        """Index documents given as (id, JSON source); one call per batch of the source
        keeps the per-document cost of the hot path to building its payload."""
        prefix = self._index_prefix
        items = [
            _Item("index", doc_id, prefix + orjson.dumps(doc_id) + b"}}\n" + source + b"\n")
            for doc_id, source in docs
        ]
        if self._fatal is not None:
            raise SinkError(str(self._fatal)) from self._fatal
        for item in items:
            self._buffer.append(item)
            self._buffer_bytes += len(item.payload)
            if len(self._buffer) >= self.max_docs or self._buffer_bytes >= self.max_bytes:
                await self._flush()

    async def add_delete(self, doc_id: str) -> None:
        header = orjson.dumps({"delete": {"_index": self.index, "_id": doc_id}})
        await self._add(_Item("delete", doc_id, header + b"\n"))

    async def _add(self, item: _Item) -> None:
        if self._fatal is not None:
            raise SinkError(str(self._fatal)) from self._fatal
        self._buffer.append(item)
        self._buffer_bytes += len(item.payload)
        if len(self._buffer) >= self.max_docs or self._buffer_bytes >= self.max_bytes:
            await self._flush()

    async def _flush(self) -> None:
        if self._buffer:
            batch, self._buffer, self._buffer_bytes = self._buffer, [], 0
            await self._queue.put(batch)  # blocks while senders are busy: backpressure

    async def close(self) -> SinkStats:
        """Send what is buffered, wait for every sender, and raise if a batch was lost."""
        try:
            await self._flush()
        finally:
            for _ in self._workers:
                await self._queue.put(None)
            await asyncio.gather(*self._workers, return_exceptions=True)
        if self._fatal is not None:
            raise SinkError(str(self._fatal)) from self._fatal
        return self.stats

    async def abort(self) -> None:
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)

    async def _work(self) -> None:
        while True:
            batch = await self._queue.get()
            if batch is None:
                return
            if self._fatal is not None:
                continue  # drain; close() reports the failure
            try:
                await self._send(batch)
            except Exception as exc:
                self._fatal = exc

    async def _send(self, batch: list[_Item]) -> None:
        pending = batch
        started = time.monotonic()
        for attempt in itertools.count():
            final = attempt >= self.max_retries and (
                time.monotonic() - started >= self.retry_seconds
            )
            body = b"".join(item.payload for item in pending)
            try:
                items = await self.transport.send(body)
            except BulkUnavailable as exc:
                if final:
                    raise SinkError(
                        f"bulk request to index {self.index!r} failed after "
                        f"{attempt + 1} attempts in {time.monotonic() - started:.0f}s: {exc}"
                    ) from None
                await self._sleep(attempt)
                continue
            except BulkTlsError as exc:
                raise SinkError(f"bulk request to index {self.index!r} failed: {exc}") from None
            except BulkRejected as exc:
                if exc.status not in RETRYABLE_STATUS or final:
                    raise SinkError(
                        f"bulk request to index {self.index!r} rejected: {exc}"
                    ) from None
                await self._sleep(attempt)
                continue
            if len(items) != len(pending):
                raise SinkError(
                    f"bulk response from index {self.index!r} answers {len(items)} of "
                    f"{len(pending)} actions; the unanswered ones may or may not be written, "
                    "so the batch is failed (is a proxy truncating responses?)"
                )
            self.stats.batches += 1
            self.stats.bytes_sent += len(body)
            pending = self._account(pending, items, final=final)
            if not pending:
                return
            await self._sleep(attempt)

    def _account(
        self, sent: list[_Item], results: list[dict[str, Any]], final: bool
    ) -> list[_Item]:
        """Count each item's outcome; return the ones to retry (rejected with 429)."""
        retry = []
        for item, result in zip(sent, results, strict=True):
            outcome = result[item.action]
            status = int(outcome.get("status", 500))
            if item.action == "delete" and status in (200, 404):
                self.stats.deleted += 1 if status == 200 else 0
            elif status in (200, 201):
                self.stats.indexed += 1
            elif status in RETRYABLE_STATUS and not final:
                retry.append(item)
            else:
                error = outcome.get("error") or {}
                self.stats.record_failure(
                    ItemFailure(
                        item.doc_id,
                        item.action,
                        status,
                        str(error.get("type", "unknown")),
                        str(error.get("reason", ""))[:500],
                    )
                )
        return retry

    async def _sleep(self, attempt: int) -> None:
        self.stats.retries += 1
        pause = min(self.backoff * (2 ** min(attempt, 16)), self.backoff_cap)
        await asyncio.sleep(pause * (0.5 + random.random()))
