"""Reading an index for assertions, over plain HTTP (works with 8.x and 9.x servers), in
bounded memory: documents are fetched by id in chunks, never all at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from harness.services.es_http import ElasticsearchEndpoint, EsHttpError, es_request

CHUNK = 1000


class IndexReader:
    def __init__(self, endpoint: ElasticsearchEndpoint, index: str) -> None:
        self.endpoint = endpoint
        self.index = index

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        return es_request(self.endpoint, method, path, body, timeout=120)

    def exists(self) -> bool:
        try:
            self._call("GET", f"/{self.index}/_count")
        except EsHttpError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def refresh(self) -> None:
        if self.exists():
            self._call("POST", f"/{self.index}/_refresh")

    def count(self) -> int:
        if not self.exists():
            return 0
        return int(self._call("GET", f"/{self.index}/_count")["count"])

    def get_many(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        found = self._call("POST", f"/{self.index}/_mget", {"ids": ids})
        return {d["_id"]: d["_source"] for d in found["docs"] if d.get("found")}

    def ids(self, query: dict[str, Any] | None = None) -> Iterator[str]:
        """Every id in the index, or those ``query`` matches (ids only: a million of them
        fit in memory)."""
        if not self.exists():
            return
        body: dict[str, Any] = {"size": 5000, "sort": ["_doc"], "_source": False}
        if query is not None:
            body["query"] = query
        page = self._call("POST", f"/{self.index}/_search?scroll=2m", body)
        scroll_id = page.get("_scroll_id")
        try:
            while page["hits"]["hits"]:
                for hit in page["hits"]["hits"]:
                    yield hit["_id"]
                page = self._call(
                    "POST", "/_search/scroll", {"scroll": "2m", "scroll_id": scroll_id}
                )
                scroll_id = page.get("_scroll_id")
        finally:
            if scroll_id:
                self._call("DELETE", "/_search/scroll", {"scroll_id": scroll_id})

    def write_stats(self) -> tuple[int, int, int]:
        """(index operations, delete operations, highest _seq_no) so far: unchanged
        numbers prove a sync wrote nothing."""
        if not self.exists():
            return (0, 0, -1)
        stats = self._call("GET", f"/{self.index}/_stats/indexing")
        total = stats["indices"][self.index]["primaries"]["indexing"]
        top = self._call(
            "POST",
            f"/{self.index}/_search",
            {
                "size": 1,
                "sort": [{"_seq_no": "desc"}],
                "seq_no_primary_term": True,
                "_source": False,
            },
        )
        hits = top["hits"]["hits"]
        return (
            int(total["index_total"]),
            int(total["delete_total"]),
            int(hits[0]["_seq_no"]) if hits else -1,
        )
