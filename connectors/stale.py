"""Stale deletion: the documents a complete full sync did not see are deleted, after the
source has confirmed they are gone.

The snapshot holds hashes only, so the stale ids are found by scanning the index's ids
again. A source that can tell a lost document from an unreadable one (a table that
disappeared from a listing because its privilege was revoked) overrides
``BaseDataSource.confirm_gone``; its stale ids are then vetted, page by page, before the
first deletion, so a refusal deletes nothing. Up to ``KEPT_STALE_IDS`` vetted ids are kept
and deleted without a second scan; past that, the index is scanned once more.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from connectors.documents import hash64
from connectors.es.rest import EsClient
from connectors.es.sink import BulkSink, SinkStats
from connectors.es.snapshot import IndexSnapshot, scan_ids
from connectors.lazy import lazy_module
from connectors.source import BaseDataSource

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

KEPT_STALE_IDS = 100_000  # ~10 MB of ids at most; past this, a second scan is cheaper


async def stale_ids(
    client: EsClient, index: str, snapshot: IndexSnapshot, page: int
) -> AsyncIterator[list[str]]:
    """The index's ids that the sync did not see, a page at a time."""
    async for hits in scan_ids(client, index, page):
        hashes = np.fromiter((hash64(h["_id"].encode()) for h in hits), np.uint64, len(hits))
        stale = [
            hit["_id"]
            for hit, is_stale in zip(hits, snapshot.is_stale(hashes).tolist(), strict=True)
            if is_stale
        ]
        if stale:
            yield stale


def vets_deletions(source: BaseDataSource) -> bool:
    """Whether the source overrides ``confirm_gone`` (a wrapper may hand on its source's)."""
    return getattr(source.confirm_gone, "__func__", None) is not BaseDataSource.confirm_gone


async def delete_stale(
    source: BaseDataSource,
    client: EsClient,
    index: str,
    snapshot: IndexSnapshot,
    sink: BulkSink,
    page: int,
) -> SinkStats:
    """Delete what the snapshot marks stale; ``SourceError`` from the source's vetting
    propagates before anything is deleted. The caller owns the sink until this returns."""
    kept: list[str] | None = None
    try:
        if vets_deletions(source):
            kept = []
            async for ids in stale_ids(client, index, snapshot, page):
                await source.confirm_gone(ids)
                if kept is not None and len(kept) + len(ids) <= KEPT_STALE_IDS:
                    kept.extend(ids)
                else:
                    kept = None
        pages = _listed(kept) if kept is not None else stale_ids(client, index, snapshot, page)
        async for ids in pages:
            for doc_id in ids:
                await sink.add_delete(doc_id)
    except BaseException:
        await sink.abort()
        raise
    return await sink.close()


async def _listed(ids: list[str]) -> AsyncIterator[list[str]]:
    yield ids
