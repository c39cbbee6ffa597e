"""MySQL/MariaDB source: all tables of a database, listed tables, or custom queries.

* ``_id`` is ``<table>:<primary key>`` (composite keys joined by ``|``, escaped as for
  PostgreSQL); a table without a primary key needs ``id_columns`` declared.
* One ``START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY`` per read, streamed through
  an unbuffered cursor: no LIMIT/OFFSET, bounded memory, one consistent snapshot.
* Each row's version is the server's MD5 of its stored values: a re-sync lists only
  keys and versions, then fetches the changed rows by key.
* Incremental sync follows ``cursor_column``: rows at or after the cursor, minus those
  already sent at exactly its value.
* The session runs at time zone +00:00, so TIMESTAMP values are read in UTC; every
  identifier is backquoted, every value a parameter. (docs/mysql.md: the type mapping.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncmy
from asyncmy.cursors import SSCursor

from connectors.config import ConfigField, ConfigSchema
from connectors.documents import SourceDocument
from connectors.ids import decode_id
from connectors.source import BaseDataSource, Operation, SourceError
from connectors.sources.mysql import driver
from connectors.sources.mysql.discovery import confirm_dropped, discover_plans
from connectors.sources.mysql.queries import Plan, server_reason
from connectors.sql import (
    SQL_CHECKS,
    Boundary,
    keys_by_table,
    queries_field,
    server_fields,
    table_source_fields,
)

SESSION = (
    "SET SESSION time_zone = '+00:00'",
    "SET SESSION TRANSACTION READ ONLY",
    f"SET SESSION net_write_timeout = {driver.SESSION_WRITE_TIMEOUT}",
)


class MySQLDataSource(BaseDataSource):
    name = "mysql"
    supports_incremental = True
    supports_versions = True

    def __init__(self, configuration: dict[str, Any]) -> None:
        super().__init__(configuration)
        self._cursor: dict[str, Any] = {}
        self._plans_cache: list[Plan] | None = None
        self._gone: set[str] = set()  # tables confirmed dropped during this sync

    @classmethod
    def config_schema(cls) -> ConfigSchema:
        return ConfigSchema(
            (
                *server_fields(3306),
                ConfigField("tables", "list", label="Tables ('*' for all)", default=["*"]),
                queries_field(),
                *table_source_fields(),
            ),
            checks=SQL_CHECKS,
        )

    # -- connection -------------------------------------------------------------------

    def _where(self) -> str:
        c = self.config
        return f"MySQL {c['host']}:{c['port']}/{c['database']} as {c['username']}"

    async def _connect(self) -> Any:
        c = self.config
        driver.install()  # once per process, at the first connection
        try:
            conn = await asyncmy.connect(
                host=c["host"],
                port=c["port"],
                user=c["username"],
                password=c["password"] or "",
                database=c["database"],
                connect_timeout=c["connect_timeout"],
                charset="utf8mb4",
                autocommit=True,
            )
        except Exception as exc:
            raise SourceError(f"cannot connect to {self._where()}: {server_reason(exc)}") from None
        try:
            await driver.single_statements(conn)
            async with conn.cursor() as cur:
                for statement in SESSION:
                    await cur.execute(statement)
        except Exception as exc:
            conn.close()
            raise SourceError(
                f"cannot set up the session on {self._where()}: {server_reason(exc)}"
            ) from None
        return conn

    async def _snapshot(self, conn: Any) -> None:
        async with conn.cursor() as cur:
            await cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")

    async def ping(self) -> None:
        conn = await self._connect()
        try:
            async with conn.cursor() as cur:
                await cur.execute("SELECT 1")
        finally:
            conn.close()

    async def validate_config(self) -> None:
        conn = await self._connect()
        try:
            await self._plans(conn)
        finally:
            conn.close()

    async def _plans(self, conn: Any) -> list[Plan]:
        if self._plans_cache is None:
            async with conn.cursor() as cur:
                self._plans_cache = await discover_plans(cur, self.config, self._where())
        return self._plans_cache

    # -- reading ----------------------------------------------------------------------

    async def _batches(
        self, conn: Any, what: str, query: str, params: tuple[Any, ...] = ()
    ) -> AsyncIterator[list[tuple[Any, ...]]]:
        """Rows from an unbuffered cursor, fetch_size at a time; errors say what was being
        read, and where."""
        size = self.config["fetch_size"]
        try:
            async with conn.cursor(SSCursor) as cur:
                await cur.execute(query, params)  # always formatted: %% is %
                while rows := await cur.fetchmany(size):
                    yield rows
        except asyncmy.errors.Error as exc:
            raise SourceError(
                f"reading {what} from {self._where()} failed: {server_reason(exc)}"
            ) from None

    async def get_docs(self) -> AsyncIterator[SourceDocument]:
        conn = await self._connect()
        try:
            plans = await self._plans(conn)
            await self._snapshot(conn)
            for plan in plans:
                make = plan.source_document
                async for rows in self._batches(conn, repr(plan.name), plan.select()):
                    for row in rows:
                        yield make(row)
        finally:
            conn.close()

    async def get_versions(self) -> AsyncIterator[tuple[str, str]]:
        conn = await self._connect()
        try:
            plans = await self._plans(conn)
            await self._snapshot(conn)
            for plan in plans:
                width, id_of = len(plan.id_columns), plan.id_of
                query = plan.select_versions()
                async for rows in self._batches(conn, repr(plan.name), query):
                    for row in rows:
                        yield id_of(row), row[width]
        finally:
            conn.close()

    async def get_docs_by_ids(self, ids: list[str]) -> AsyncIterator[SourceDocument]:
        conn = await self._connect()
        try:
            plans = {plan.name: plan for plan in await self._plans(conn)}
            widths = {name: len(plan.id_columns) for name, plan in plans.items()}
            for name, keys in keys_by_table(ids, widths).items():
                plan = plans[name]
                params = tuple(value for key in keys for value in key)
                query = plan.select(plan.by_keys(len(keys)))
                async for rows in self._batches(conn, repr(name), query, params):
                    for row in rows:
                        yield plan.source_document(row)
        finally:
            conn.close()

    async def get_docs_incrementally(self, cursor: Any) -> AsyncIterator[Operation]:
        if not self.config["cursor_column"]:
            raise SourceError("incremental sync needs cursor_column in the configuration")
        previous: dict[str, Any] = dict(cursor or {})
        self._cursor = dict(previous)
        conn = await self._connect()
        try:
            plans = await self._plans(conn)
            await self._snapshot(conn)
            for plan in plans:
                if plan.cursor_column is not None:
                    async for op in self._changes(conn, plan, previous.get(plan.name)):
                        yield op
        finally:
            conn.close()

    async def _changes(
        self, conn: Any, plan: Plan, since: dict[str, Any] | None
    ) -> AsyncIterator[Operation]:
        query = plan.select(plan.since() if since else "", by_cursor=True)
        params = (since["value"],) if since else ()
        boundary = Boundary(since)
        at = len(plan.id_columns) + 1  # the cursor value's place in a row
        async for rows in self._batches(conn, repr(plan.name), query, params):
            for row in rows:
                doc = plan.source_document(row)
                if boundary.already_sent(row[at], doc.id):
                    continue
                boundary.read(row[at], doc.id)
                yield Operation("index", doc.id, doc)
        if boundary.cursor is not None:
            self._cursor[plan.name] = boundary.cursor

    def next_cursor(self) -> Any:
        return dict(self._cursor)

    async def confirm_gone(self, doc_ids: list[str]) -> None:
        """With ``tables: ["*"]``, a table whose SELECT was revoked vanishes from the
        listing like a dropped one: its documents' table is asked for by name, and only
        a table the server says does not exist lets them be deleted."""
        if self.config["queries"] or self.config["tables"] not in (["*"], "*"):
            return  # the user named what to read: whatever else was indexed is meant to go
        read = {plan.name for plan in self._plans_cache or ()}
        unlisted = {decode_id(doc_id)[0] for doc_id in doc_ids} - read - self._gone
        if not unlisted:
            return
        conn = await self._connect()
        try:
            async with conn.cursor() as cur:
                await confirm_dropped(cur, self.config["database"], sorted(unlisted), self._where())
        finally:
            conn.close()
        self._gone |= unlisted
