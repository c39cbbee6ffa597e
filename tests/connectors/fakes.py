"""In-memory sources and a scripted bulk endpoint, for fast tests of the engine's rules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

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


class Meta:
    def __init__(self, status: int) -> None:
        self.status = status


class Response:
    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body


class ScriptedBulkClient:
    """Answers /_bulk with scripted outcomes: a list per call of either an exception to
    raise or per-item statuses (200/201, 429, 400...)."""

    def __init__(self, script: list[Any]) -> None:
        self.script = list(script)
        self.calls: list[bytes] = []

    async def perform_request(self, method: str, path: str, body: bytes, headers: Any) -> Response:
        self.calls.append(body)
        step = self.script.pop(0) if self.script else "ok"
        if isinstance(step, Exception):
            raise step
        lines = [
            line
            for line in body.split(b"\n")
            if line.startswith(b'{"index"') or line.startswith(b'{"delete"')
        ]
        items = []
        for i, line in enumerate(lines):
            action = "index" if line.startswith(b'{"index"') else "delete"
            status = 201 if step == "ok" else step[i]
            outcome: dict[str, Any] = {"status": status}
            if status >= 400:
                outcome["error"] = {
                    "type": "mapper_parsing_exception"
                    if status == 400
                    else "es_rejected_execution_exception",
                    "reason": f"scripted {status}",
                }
            items.append({action: outcome})
        return Response({"items": items, "errors": step != "ok"})
