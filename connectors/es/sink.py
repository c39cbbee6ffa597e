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
from connectors.outage import Outage

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
        # Beyond max_retries, batches are retried until writes have failed for this many
        # seconds: a cluster restarting or paused for a minute is waited for, not failed.
        # One clock for the whole sink (the sync), not one per batch: under a permanent
        # block, a sync with a 10 s deadline once took 107 s, each batch waiting its own.
        self.retry_seconds = retry_seconds
        self.outage = Outage(f"writes to index {index!r}")
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

    def _final(self, attempt: int) -> bool:
        """Whether this attempt is the last: past the retries, and writes have failed for
        the sink's whole deadline (whichever batch started failing first)."""
        since = self.outage.since
        failing = 0.0 if since is None else time.monotonic() - since
        return attempt >= self.max_retries and failing >= self.retry_seconds

    async def _send(self, batch: list[_Item]) -> None:
        pending = batch
        for attempt in itertools.count():
            if self._fatal is not None:  # another batch gave up: the sync has failed
                raise self._fatal
            final = self._final(attempt)
            body = b"".join(item.payload for item in pending)
            try:
                items = await self.transport.send(body)
            except BulkUnavailable as exc:
                failing = self.outage.failed(f"_bulk: {exc}", self.retry_seconds)
                if final:
                    raise SinkError(
                        f"bulk request to index {self.index!r} failed after {attempt + 1} "
                        f"attempts in {failing:.0f}s of failing writes (deadline "
                        f"{self.retry_seconds:.0f}s): {exc}"
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
                self.outage.failed(f"_bulk: {exc}", self.retry_seconds)
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
            retry = self._account(pending, items, final=final)
            if len(retry) < len(pending):  # some items went in: the cluster takes writes
                self.outage.ended()
            elif retry:
                self.outage.failed(_item_reason(items[0], retry[0]), self.retry_seconds)
            if final and self._refused_for_good(pending, items):
                since = self.outage.since
                failing = 0.0 if since is None else max(0.0, time.monotonic() - since)
                raise SinkError(
                    f"index {self.index!r} refused writes for {failing:.0f}s (deadline "
                    f"{self.retry_seconds:.0f}s): {_item_reason(items[0], pending[0])}"
                )
            pending = retry
            if not pending:
                return
            await self._sleep(attempt)

    @staticmethod
    def _refused_for_good(sent: list[_Item], results: list[dict[str, Any]]) -> bool:
        """Every item of a last attempt refused as busy (a flood-stage block, say): the
        cluster takes no writes, and every later batch would wait out the same block."""
        statuses = [int(r[i.action].get("status", 500)) for i, r in zip(sent, results, strict=True)]
        return all(status in RETRYABLE_STATUS for status in statuses)

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
        if self._fatal is not None:
            raise self._fatal
        self.stats.retries += 1
        pause = min(self.backoff * (2 ** min(attempt, 16)), self.backoff_cap)
        await asyncio.sleep(pause * (0.5 + random.random()))


def _item_reason(result: dict[str, Any], item: _Item) -> str:
    """Why Elasticsearch refused an item (its block, for a flood-stage 429)."""
    outcome = result.get(item.action, {})
    error = outcome.get("error") or {}
    return (
        f"items refused (HTTP {outcome.get('status', '?')}): {error.get('type', '?')}: "
        f"{str(error.get('reason', ''))[:300]}"
    )
