"""Document-shape adapters, one per source: how a connector of Elastic's framework names and
lays out what ours documents differently, so a difference of shape is never reported as a
bug and a difference of value always is.

Each adapter is written from their code at the version named (not by trial and error) and
maps three things: our configuration to theirs, our ids to theirs, and their documents back
to ours (their bookkeeping fields dropped). A source without an adapter cannot be run
through this subject, and says so."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from harness.checks.index_reader import IndexReader


class DocumentShape(Protocol):
    service_type: str  # the source's name in their framework

    def configuration(self, ours: dict[str, Any]) -> dict[str, Any]: ...
    def their_id(self, our_id: str, ours: dict[str, Any]) -> str: ...
    def our_document(self, theirs: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]: ...


def _split_our_id(our_id: str) -> tuple[str, list[str]]:
    """``<table>:<key>`` with ``|`` between key parts, ``\\`` escaping (docs/postgresql.md)."""
    table, parts, current, escaped, in_table = "", [], "", False, True
    for char in our_id:
        if escaped:
            current, escaped = current + char, False
        elif char == "\\":
            escaped = True
        elif in_table and char == ":":
            table, current, in_table = current, "", False
        elif not in_table and char == "|":
            parts.append(current)
            current = ""
        else:
            current += char
    return table, [*parts, current]


class PostgresShape:
    """elastic/connectors v9.5.x, connectors/sources/postgresql/datasource.py and
    sources/shared/database/generic_database.py:

    * ``_id`` = ``<database>_<schema>_<table>_<key values joined by _>`` (hash_id, row2doc);
    * columns are named ``<schema>_<table>_<column>``, lower-cased (map_column_names);
    * each document adds ``_timestamp``, ``database``, ``schema`` and ``table`` (row2doc).
    Our documents carry the columns by name and ``_table``."""

    service_type = "postgresql"
    BOOKKEEPING = ("_timestamp", "database", "schema", "table")

    def configuration(self, ours: dict[str, Any]) -> dict[str, Any]:
        taken = ("host", "port", "username", "password", "database", "schema", "fetch_size")
        theirs = {name: ours[name] for name in taken if name in ours}
        tables = ours.get("tables")
        theirs["tables"] = ",".join(tables) if isinstance(tables, list) and tables else "*"
        return theirs

    def their_id(self, our_id: str, ours: dict[str, Any]) -> str:
        table, key = _split_our_id(our_id)
        return f"{ours['database']}_{ours['schema']}_{table}_{'_'.join(key)}"

    def our_document(self, theirs: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
        table = str(theirs.get("table", ""))
        prefix = f"{ours['schema']}_{table}_".lower()
        doc = {
            name.removeprefix(prefix): value
            for name, value in theirs.items()
            if name not in self.BOOKKEEPING
        }
        doc["_table"] = table
        return doc


SHAPES: dict[str, DocumentShape] = {"postgresql": PostgresShape()}


class UnsupportedSource(LookupError):
    """No shape adapter: the subject cannot judge this source."""


def shape_for(service_type: str) -> DocumentShape:
    try:
        return SHAPES[service_type]
    except KeyError:
        raise UnsupportedSource(
            f"no shape adapter for {service_type!r} in harness/subjects/elastic/shapes.py "
            f"(adapters: {', '.join(sorted(SHAPES))}): write one from their source's code to run it"
        ) from None


THEIRS = "(their id) "  # an id of theirs that no expected document maps to
# What their framework adds to every document, whatever the source (v9.5.x): the id copied
# into ``id`` (es/sink.py) and the pipeline's flags (sync_job_runner.py).
FRAMEWORK_FIELDS = ("id", "_extract_binary_content", "_reduce_whitespace", "_run_ml_inference")


def without_framework_fields(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in FRAMEWORK_FIELDS}


class ShapedIndexReader(IndexReader):
    """Their index, read as if in our shape: ids and documents mapped through the adapter,
    so the standard comparisons (missing, extra, mismatched fields) apply unchanged."""

    def __init__(self, reader: IndexReader, shape: DocumentShape, ours: dict[str, Any]) -> None:
        super().__init__(reader.endpoint, reader.index)
        self.shape, self.ours = shape, ours
        self._ours_of: dict[str, str] = {}

    def get_many(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        theirs = {}
        for our_id in ids:
            their_id = (our_id.removeprefix(THEIRS) if our_id.startswith(THEIRS)
                        else self.shape.their_id(our_id, self.ours))  # fmt: skip
            theirs[their_id] = our_id
            self._ours_of[their_id] = our_id
        found = super().get_many(list(theirs))
        return {
            theirs[i]: self.shape.our_document(without_framework_fields(doc), self.ours)
            for i, doc in found.items()
        }

    def ids(self, query: dict[str, Any] | None = None) -> Iterator[str]:
        for their_id in super().ids(query):
            yield self._ours_of.get(their_id, THEIRS + their_id)
