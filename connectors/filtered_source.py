"""A source seen through basic sync rules (connectors/basic_rules.py): the engine syncs it
like any other, and documents the rules leave out are never sent, so a full sync deletes
them as stale and an incremental sync deletes them outright.

A filtered source offers no versions: a rule judges a document by its fields, so every
document is read in full on each sync (unchanged ones are still skipped, by content), and one
the rules now leave out is never counted as present."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson

from connectors.basic_rules import BasicRule, admits
from connectors.config import ConfigSchema
from connectors.documents import SourceDocument
from connectors.source import BaseDataSource, Operation


class BasicRulesSource(BaseDataSource):
    def __init__(self, source: BaseDataSource, rules: tuple[BasicRule, ...]) -> None:
        # No configuration of its own: the wrapped source parsed its own.
        self.source, self.rules = source, rules
        self.name = source.name  # type: ignore[misc]
        self.supports_incremental = source.supports_incremental  # type: ignore[misc]
        self.supports_versions = False  # type: ignore[misc]
        self.confirm_gone = source.confirm_gone  # type: ignore[method-assign]

    @classmethod
    def config_schema(cls) -> ConfigSchema:
        raise NotImplementedError("a filtered source has the configuration of its source")

    def _admits(self, doc: SourceDocument) -> bool:
        fields = doc.fields if doc.fields is not None else orjson.loads(doc.body or b"{}")
        return admits(self.rules, fields)

    async def ping(self) -> None:
        await self.source.ping()

    async def validate_config(self) -> None:
        await self.source.validate_config()

    async def get_docs(self) -> AsyncIterator[SourceDocument]:
        async for doc in self.source.get_docs():
            if self._admits(doc):
                yield doc

    async def get_docs_incrementally(self, cursor: Any) -> AsyncIterator[Operation]:
        async for op in self.source.get_docs_incrementally(cursor):
            if op.op == "index" and op.doc is not None and not self._admits(op.doc):
                yield Operation("delete", op.doc_id)  # left out now: gone from the index
            else:
                yield op

    def next_cursor(self) -> Any:
        return self.source.next_cursor()

    async def close(self) -> None:
        await self.source.close()
