"""What the index holds before a full sync, in 17 bytes per document.

For each document: a 64-bit hash of its id, the 64-bit content hash it was written with,
and whether this sync has seen it in the source. That is all skip-unchanged and stale
deletion need; no document is held in memory. Ids of stale documents are recovered by a
second pass over the index.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from connectors import defaults
from connectors.documents import HASH_FIELD, hash64
from connectors.es.rest import EsClient
from connectors.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")


async def scan_ids(
    client: EsClient, index: str, page: int = defaults.SCAN_PAGE
) -> AsyncIterator[list[dict[str, Any]]]:
    """Pages of hits (``_id`` and the stored hash only) over the whole index."""
    response = await client.search(
        index=index,
        scroll="5m",
        size=page,
        sort=["_doc"],
        source=False,
        docvalue_fields=[HASH_FIELD],
        track_total_hits=True,
    )
    scroll_id = response.get("_scroll_id")
    try:
        while hits := response["hits"]["hits"]:
            yield hits
            response = await client.scroll(scroll_id=scroll_id, scroll="5m")
            scroll_id = response.get("_scroll_id")
    finally:
        if scroll_id:
            await client.clear_scroll(scroll_id=scroll_id)


class IndexSnapshot:
    def __init__(self, id_hashes: np.ndarray, content_hashes: np.ndarray) -> None:
        order = np.argsort(id_hashes, kind="stable")
        self.ids = id_hashes[order]
        self.contents = content_hashes[order]
        self.seen = np.zeros(len(self.ids), dtype=bool)

    @classmethod
    def empty(cls) -> IndexSnapshot:
        """An empty index's: made without numpy, which a sync that finds nothing to compare
        never needs (it is a fifth of the ``connectors`` start-up)."""
        snapshot = cls.__new__(cls)
        nothing: Any = ()  # len() 0: every method below answers from that alone
        snapshot.ids = snapshot.contents = snapshot.seen = nothing
        return snapshot

    @classmethod
    async def load(
        cls, client: EsClient, index: str, page: int = defaults.SCAN_PAGE
    ) -> IndexSnapshot:
        ids: list[np.ndarray] = []
        contents: list[np.ndarray] = []
        async for hits in scan_ids(client, index, page):
            ids.append(np.fromiter((hash64(h["_id"].encode()) for h in hits), np.uint64, len(hits)))
            contents.append(np.fromiter((_stored_hash(h) for h in hits), np.uint64, len(hits)))
        if not ids:
            return cls.empty()
        return cls(np.concatenate(ids), np.concatenate(contents))

    def __len__(self) -> int:
        return len(self.ids)

    def _positions(self, id_hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not len(self.ids):
            return np.zeros(len(id_hashes), np.intp), np.zeros(len(id_hashes), bool)
        pos = np.searchsorted(self.ids, id_hashes)
        pos[pos >= len(self.ids)] = 0
        return pos, self.ids[pos] == id_hashes

    def observe(self, id_hashes: np.ndarray, content_hashes: np.ndarray) -> np.ndarray:
        """Mark ids as seen in the source; return which are unchanged in the index."""
        pos, found = self._positions(id_hashes)
        if not len(self.ids):
            return found
        self.seen[pos[found]] = True
        unchanged: np.ndarray = found & (self.contents[pos] == content_hashes)
        return unchanged

    def mark_seen(self, id_hashes: np.ndarray) -> None:
        pos, found = self._positions(id_hashes)
        if len(self.ids):
            self.seen[pos[found]] = True

    def stale_count(self) -> int:
        if not len(self.ids):
            return 0
        return int((~self.seen).sum())

    def is_stale(self, id_hashes: np.ndarray) -> np.ndarray:
        """True for ids that were in the index before the sync and not seen in the source.
        Documents written during the sync are not in the snapshot, so never stale."""
        pos, found = self._positions(id_hashes)
        if not len(self.ids):
            return found
        stale: np.ndarray = found & ~self.seen[pos]
        return stale

    def nbytes(self) -> int:
        if not len(self.ids):
            return 0
        return int(self.ids.nbytes + self.contents.nbytes + self.seen.nbytes)


def _stored_hash(hit: dict[str, Any]) -> int:
    values = hit.get("fields", {}).get(HASH_FIELD)
    return int(values[0], 16) if values else 0  # 0: never equal to a real hash, so re-sent
