"""PostgreSQL source: all tables of a schema, listed tables, or custom queries.

* ``_id`` is ``<table>:<primary key>`` (composite keys joined by ``|``); a table without a
  primary key needs ``id_columns`` declared, or the sync fails naming it.
* Rows stream through a server-side cursor inside one REPEATABLE READ, read-only
  transaction: no LIMIT/OFFSET, bounded memory, one consistent snapshot.
* Each document carries a version token (the md5 of the row's text, computed by the
  server). A re-sync first reads only ids and versions, then fetches just the rows that
  changed, by primary key.
* Incremental sync follows ``cursor_column`` (e.g. ``updated_at``): rows with a value >= the
  cursor, minus those already sent at exactly that value. Hard deletes are not visible to
  a cursor: a full sync removes them.
* Identifiers are always quoted with ``psycopg.sql``; values are always parameters.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from connectors.config import ConfigField, ConfigSchema
from connectors.documents import SourceDocument
from connectors.ids import encode_id
from connectors.source import BaseDataSource, Operation, SourceError
from connectors.sources.postgresql.queries import Plan, discover_plans
from connectors.sources.postgresql.types import SESSION_SETTINGS
from connectors.sql import (
    SQL_CHECKS,
    Boundary,
    keys_by_table,
    queries_field,
    server_fields,
    table_source_fields,
)


class PostgreSQLDataSource(BaseDataSource):
    name = "postgresql"
    supports_incremental = True
    supports_versions = True

    def __init__(self, configuration: dict[str, Any]) -> None:
        super().__init__(configuration)
        self._cursor: dict[str, Any] = {}
        self._plans_cache: list[Plan] | None = None

    @classmethod
    def config_schema(cls) -> ConfigSchema:
        return ConfigSchema(
            (
                *server_fields(5432),
                ConfigField("schema", label="Schema", default="public"),
                ConfigField("tables", "list", label="Tables ('*' for all)", default=["*"]),
                queries_field(),
                *table_source_fields(),
            ),
            checks=SQL_CHECKS,
        )

    # -- connection -------------------------------------------------------------------

    def _where(self) -> str:
        c = self.config
        return f"PostgreSQL {c['host']}:{c['port']}/{c['database']} as {c['username']}"

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        c = self.config
        try:
            conn = await psycopg.AsyncConnection.connect(
                host=c["host"],
                port=c["port"],
                user=c["username"],
                password=c["password"] or None,
                dbname=c["database"],
                connect_timeout=c["connect_timeout"],
                application_name="connectors-postgresql",
                row_factory=tuple_row,
            )
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise SourceError(f"cannot connect to {self._where()}: {first}") from None
        # Unqualified names in custom queries resolve in the configured schema.
        await conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(c["schema"])))
        for statement in SESSION_SETTINGS:
            await conn.execute(statement)
        await conn.commit()
        return conn

    async def _snapshot_connection(self) -> psycopg.AsyncConnection[Any]:
        conn = await self._connect()
        await conn.set_read_only(True)
        await conn.set_isolation_level(psycopg.IsolationLevel.REPEATABLE_READ)
        return conn

    async def ping(self) -> None:
        conn = await self._connect()
        async with conn:
            await conn.execute("SELECT 1")

    async def validate_config(self) -> None:
        conn = await self._connect()
        async with conn:
            await self._plans(conn)

    async def _plans(self, conn: psycopg.AsyncConnection[Any]) -> list[Plan]:
        if self._plans_cache is None:
            self._plans_cache = await discover_plans(conn, self.config, self._where())
        return self._plans_cache

    # -- reading ----------------------------------------------------------------------

    async def _rows(
        self,
        conn: psycopg.AsyncConnection[Any],
        what: str,
        query: sql.Composed | sql.SQL,
        params: tuple[Any, ...] = (),
    ) -> AsyncIterator[tuple[Any, ...]]:
        """Rows from a server-side cursor; errors say what was being read, and where."""
        async with conn.cursor(name="connectors_stream", binary=True) as cur:
            cur.itersize = self.config["fetch_size"]
            try:
                await cur.execute(query, params)
                size = self.config["fetch_size"]
                while rows := await cur.fetchmany(size):
                    for row in rows:
                        yield row
            except psycopg.Error as exc:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise SourceError(f"reading {what} from {self._where()} failed: {first}") from None

    async def _docs(
        self,
        conn: psycopg.AsyncConnection[Any],
        plan: Plan,
        query: sql.Composed,
        params: tuple[Any, ...] = (),
    ) -> AsyncIterator[tuple[SourceDocument, Any]]:
        """(document, cursor value) pairs. Documents arrive serialised by the server and
        are passed on as bytes: no value is parsed or converted here."""
        width = len(plan.id_columns)
        async for row in self._rows(conn, repr(plan.name), query, params):
            doc_id = encode_id(plan.name, row[:width])
            yield SourceDocument(doc_id, version=row[width], body=row[width + 2]), row[width + 1]

    async def get_docs(self) -> AsyncIterator[SourceDocument]:
        conn = await self._snapshot_connection()
        async with conn, conn.transaction():
            for plan in await self._plans(conn):
                async for doc, _cursor in self._docs(conn, plan, plan.documents()):
                    yield doc

    async def get_versions(self) -> AsyncIterator[tuple[str, str]]:
        conn = await self._snapshot_connection()
        async with conn, conn.transaction():
            for plan in await self._plans(conn):
                width = len(plan.id_columns)
                async for row in self._rows(conn, repr(plan.name), plan.select_versions()):
                    yield encode_id(plan.name, row[:width]), row[width]

    async def get_docs_by_ids(self, ids: list[str]) -> AsyncIterator[SourceDocument]:
        conn = await self._connect()
        async with conn:
            plans = {plan.name: plan for plan in await self._plans(conn)}
            widths = {name: len(plan.id_columns) for name, plan in plans.items()}
            for name, keys in keys_by_table(ids, widths).items():
                plan = plans[name]
                columns = tuple(list(column) for column in zip(*keys, strict=True))
                async for doc, _cursor in self._docs(
                    conn, plan, plan.documents(plan.by_keys()), columns
                ):
                    yield doc

    async def get_docs_incrementally(self, cursor: Any) -> AsyncIterator[Operation]:
        """Rows with cursor_column >= the last value seen, minus the rows already sent at
        exactly that value (kept in the cursor), so nothing is missed or sent twice."""
        if not self.config["cursor_column"]:
            raise SourceError("incremental sync needs cursor_column in the configuration")
        previous: dict[str, Any] = dict(cursor or {})
        self._cursor = dict(previous)
        conn = await self._snapshot_connection()
        async with conn, conn.transaction():
            for plan in await self._plans(conn):
                if plan.cursor_column is not None:
                    async for op in self._changes(conn, plan, previous.get(plan.name)):
                        yield op

    async def _changes(
        self, conn: psycopg.AsyncConnection[Any], plan: Plan, since: dict[str, Any] | None
    ) -> AsyncIterator[Operation]:
        query = plan.documents(plan.since() if since else None, by_cursor=True)
        params = (since["value"],) if since else ()
        boundary = Boundary(since)
        async for doc, value in self._docs(conn, plan, query, params):
            if boundary.already_sent(value, doc.id):
                continue
            boundary.read(value, doc.id)
            yield Operation("index", doc.id, doc)
        if boundary.cursor is not None:
            self._cursor[plan.name] = boundary.cursor

    def next_cursor(self) -> Any:
        return dict(self._cursor)
