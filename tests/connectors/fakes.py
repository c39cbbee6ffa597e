"""In-memory sources, for fast tests of the engine's rules."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import orjson

from connectors.config import ConfigSchema
from connectors.documents import SourceDocument
from connectors.source import BaseDataSource, Operation, SourceError


class ListSource(BaseDataSource):
    name = "list"
    supports_incremental = True

    def __init__(
        self,
        docs: list[dict[str, Any]],
        fail_after: int | None = None,
        changes: list[Operation] | None = None,
        cursor: Any = None,
    ) -> None:
        super().__init__({})
        self.docs = docs
        self.fail_after = fail_after
        self.changes = changes or []
        self.cursor_after = cursor

    @classmethod
    def config_schema(cls) -> ConfigSchema:
        return ConfigSchema(())

    async def ping(self) -> None:
        pass

    async def get_docs(self) -> AsyncIterator[SourceDocument]:  # type: ignore[override]
        for n, doc in enumerate(self.docs):
            if self.fail_after is not None and n == self.fail_after:
                raise SourceError(f"connection lost after {n} rows")
            yield as_document(doc)

    async def get_docs_incrementally(self, cursor: Any) -> AsyncIterator[Operation]:  # type: ignore[override]
        for n, op in enumerate(self.changes):
            if self.fail_after is not None and n == self.fail_after:
                raise SourceError("connection lost")
            yield op

    def next_cursor(self) -> Any:
        return self.cursor_after


def as_document(doc: dict[str, Any]) -> SourceDocument:
    """Test data is written as dicts with an ``_id``, for brevity."""
    fields = {k: v for k, v in doc.items() if k != "_id"}
    return SourceDocument(doc.get("_id"), fields)  # type: ignore[arg-type]


def docs(n: int, title: str = "t", start: int = 0) -> list[dict[str, Any]]:
    return [{"_id": str(i), "n": i, "title": f"{title}{i}"} for i in range(start, start + n)]


class VersionedListSource(ListSource):
    """A source with versions: lists (id, version) cheaply and records what it fetches."""

    supports_versions = True

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        super().__init__(docs)
        self.fetched: list[str] = []

    async def get_docs(self) -> AsyncIterator[SourceDocument]:  # type: ignore[override]
        for doc in self.docs:
            yield versioned(doc)

    async def get_versions(self) -> AsyncIterator[tuple[str, str]]:  # type: ignore[override]
        for doc in self.docs:
            yield doc["_id"], version_of(doc)

    async def get_docs_by_ids(self, ids: list[str]) -> AsyncIterator[SourceDocument]:  # type: ignore[override]
        self.fetched += ids
        wanted = set(ids)
        for doc in self.docs:
            if doc["_id"] in wanted:
                yield versioned(doc)


def version_of(doc: dict[str, Any]) -> str:
    return hashlib.md5(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).hexdigest()


def versioned(doc: dict[str, Any]) -> SourceDocument:
    return as_document(doc)._replace(version=version_of(doc))
