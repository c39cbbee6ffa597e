"""PostgreSQL source: all tables of a schema, listed tables, or custom queries.

* ``_id`` is ``<table>:<primary key>`` (key columns joined by ``|``); a table without a
  primary key needs ``id_columns`` declared, or the sync fails naming it.
* Rows stream through a server-side cursor inside one REPEATABLE READ, read-only
  transaction: no LIMIT/OFFSET, bounded memory, one consistent snapshot.
* Incremental sync follows ``cursor_column`` (e.g. ``updated_at``): rows with a value >= the
  cursor are re-indexed; the new cursor is the greatest value seen, per table. Hard deletes
  are not visible to a cursor: a full sync removes them.
* Identifiers are always quoted with ``psycopg.sql.Identifier``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from connectors.config import ConfigField, ConfigSchema
from connectors.source import BaseDataSource, Operation, SourceError
from connectors.sources.pg_types import money_to_json, to_json

MONEY_OID = 790
# Ids remembered at the cursor's exact value; past this, those rows may be sent again.
MAX_BOUNDARY_IDS = 1000


@dataclass(frozen=True)
class Plan:
    """One stream of rows: a table or a custom query, and how to build ``_id``."""

    name: str
    query: sql.Composable
    id_columns: tuple[str, ...]
    cursor_column: str | None = None


class PostgreSQLDataSource(BaseDataSource):
    name = "postgresql"
    supports_incremental = True

    def __init__(self, configuration: dict[str, Any]) -> None:
        super().__init__(configuration)
        self._cursor: dict[str, Any] = {}

    @classmethod
    def config_schema(cls) -> ConfigSchema:
        return ConfigSchema(
            (
                ConfigField("host", label="Host", default="127.0.0.1"),
                ConfigField(
                    "port", "int", label="Port", default=5432, min_value=1, max_value=65535
                ),
                ConfigField("username", label="Username"),
                ConfigField(
                    "password", label="Password", sensitive=True, required=False, default=""
                ),
                ConfigField("database", label="Database"),
                ConfigField("schema", label="Schema", default="public"),
                ConfigField("tables", "list", label="Tables ('*' for all)", default=["*"]),
                ConfigField(
                    "queries",
                    "list",
                    label="Custom queries",
                    required=False,
                    default=[],
                    description="[{name, query, id_columns}] synced instead of tables",
                ),
                ConfigField(
                    "id_columns",
                    "dict",
                    label="Key columns of tables without a primary key",
                    required=False,
                    default={},
                ),
                ConfigField(
                    "cursor_column",
                    label="Incremental cursor column",
                    required=False,
                    description="e.g. updated_at; enables incremental sync",
                ),
                ConfigField(
                    "fetch_size",
                    "int",
                    label="Rows per round trip",
                    default=2000,
                    min_value=1,
                    max_value=100_000,
                ),
                ConfigField(
                    "connect_timeout", "int", label="Connect timeout (s)", default=10, min_value=1
                ),
            )
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
        return conn

    async def ping(self) -> None:
        conn = await self._connect()
        async with conn:
            await conn.execute("SELECT 1")

    async def validate_config(self) -> None:
        conn = await self._connect()
        async with conn:
            await self._plans(conn)

    # -- planning ---------------------------------------------------------------------

    async def _plans(self, conn: psycopg.AsyncConnection[Any]) -> list[Plan]:
        c = self.config
        if c["queries"]:
            return [self._query_plan(q) for q in c["queries"]]
        schema = c["schema"]
        rows = await (
            await conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                "AND table_type = 'BASE TABLE' ORDER BY table_name",
                (schema,),
            )
        ).fetchall()
        existing = [r[0] for r in rows]
        wanted = existing if c["tables"] in (["*"], "*") else list(c["tables"])
        missing = sorted(set(wanted) - set(existing))
        if missing:
            raise SourceError(
                f"tables not found in schema {schema!r} of {self._where()}: {missing}"
            )
        keys = await self._primary_keys(conn, schema)
        plans = []
        for table in wanted:
            id_columns = tuple(c["id_columns"].get(table) or keys.get(table) or ())
            if not id_columns:
                raise SourceError(
                    f"table {schema}.{table} has no primary key; declare its key columns in "
                    f'id_columns, e.g. {{"{table}": ["id"]}}'
                )
            cursor_column = c["cursor_column"]
            if cursor_column and not await self._has_column(conn, schema, table, cursor_column):
                cursor_column = None
            plans.append(
                Plan(
                    table,
                    sql.SQL("SELECT * FROM {}.{}").format(
                        sql.Identifier(schema), sql.Identifier(table)
                    ),
                    id_columns,
                    cursor_column,
                )
            )
        return plans

    def _query_plan(self, spec: Any) -> Plan:
        if not isinstance(spec, dict) or not {"name", "query", "id_columns"} <= set(spec):
            raise SourceError("each custom query needs name, query and id_columns")
        return Plan(
            str(spec["name"]),
            sql.SQL(spec["query"]),
            tuple(spec["id_columns"]),
            self.config["cursor_column"],
        )

    async def _primary_keys(
        self, conn: psycopg.AsyncConnection[Any], schema: str
    ) -> dict[str, list[str]]:
        rows = await (
            await conn.execute(
                """SELECT c.relname,
                      array_agg(a.attname::text ORDER BY array_position(i.indkey, a.attnum))
               FROM pg_index i
               JOIN pg_class c ON c.oid = i.indrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
               WHERE i.indisprimary AND n.nspname = %s GROUP BY c.relname""",
                (schema,),
            )
        ).fetchall()
        return {r[0]: list(r[1]) for r in rows}

    async def _has_column(
        self, conn: psycopg.AsyncConnection[Any], schema: str, table: str, column: str
    ) -> bool:
        row = await (
            await conn.execute(
                "SELECT 1 FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s AND column_name = %s",
                (schema, table, column),
            )
        ).fetchone()
        return row is not None

    # -- reading ----------------------------------------------------------------------

    async def _stream(
        self,
        conn: psycopg.AsyncConnection[Any],
        plan: Plan,
        query: sql.Composable,
        params: tuple[Any, ...] = (),
    ) -> AsyncIterator[dict[str, Any]]:
        async with conn.cursor(name=f"stream_{abs(hash(plan.name))}") as cur:
            cur.itersize = self.config["fetch_size"]
            try:
                await cur.execute(query, params)
            except psycopg.Error as exc:
                raise SourceError(
                    f"reading {plan.name!r} from {self._where()} failed: "
                    f"{str(exc).strip().splitlines()[0]}"
                ) from None
            assert cur.description is not None
            names = [col.name for col in cur.description]
            money = [i for i, col in enumerate(cur.description) if col.type_code == MONEY_OID]
            try:
                key_positions = [names.index(k) for k in plan.id_columns]
            except ValueError:
                raise SourceError(
                    f"{plan.name!r}: key columns {list(plan.id_columns)} are not all "
                    f"in its columns {names}"
                ) from None
            async for row in cur:
                doc = {name: to_json(value) for name, value in zip(names, row, strict=True)}
                for i in money:
                    doc[names[i]] = money_to_json(row[i])
                doc["_id"] = f"{plan.name}:" + "|".join(str(row[p]) for p in key_positions)
                doc["_table"] = plan.name
                yield doc

    async def get_docs(self) -> AsyncIterator[dict[str, Any]]:  # type: ignore[override]
        conn = await self._connect()
        async with conn:
            await conn.set_read_only(True)
            await conn.set_isolation_level(psycopg.IsolationLevel.REPEATABLE_READ)
            async with conn.transaction():
                for plan in await self._plans(conn):
                    async for doc in self._stream(conn, plan, plan.query):
                        yield doc

    async def get_docs_incrementally(  # type: ignore[override]
        self, cursor: Any
    ) -> AsyncIterator[Operation]:
        """Rows with cursor_column >= the last value seen, minus the rows already sent at
        exactly that value (kept in the cursor), so nothing is missed or sent twice."""
        if not self.config["cursor_column"]:
            raise SourceError("incremental sync needs cursor_column in the configuration")
        previous: dict[str, Any] = dict(cursor or {})
        self._cursor = dict(previous)
        conn = await self._connect()
        async with conn:
            await conn.set_read_only(True)
            await conn.set_isolation_level(psycopg.IsolationLevel.REPEATABLE_READ)
            async with conn.transaction():
                for plan in await self._plans(conn):
                    if plan.cursor_column is not None:
                        async for op in self._changes(conn, plan, previous.get(plan.name)):
                            yield op

    async def _changes(
        self, conn: psycopg.AsyncConnection[Any], plan: Plan, since: dict[str, Any] | None
    ) -> AsyncIterator[Operation]:
        assert plan.cursor_column is not None
        column = sql.Identifier(plan.cursor_column)
        query = sql.SQL("SELECT * FROM ({}) AS src").format(plan.query)
        params: tuple[Any, ...] = ()
        if since is not None:
            query += sql.SQL(" WHERE {} >= %s").format(column)
            params = (since["value"],)
        query += sql.SQL(" ORDER BY {}").format(column)
        already_sent = set(since["ids"]) if since else set()
        boundary: dict[str, Any] | None = since
        async for doc in self._stream(conn, plan, query, params):
            value = doc.get(plan.cursor_column)
            doc_id = doc.pop("_id")
            if since is not None and value == since["value"] and doc_id in already_sent:
                continue
            if value is not None:
                if boundary is None or value != boundary["value"]:
                    boundary = {"value": value, "ids": []}
                if len(boundary["ids"]) < MAX_BOUNDARY_IDS:
                    boundary["ids"].append(doc_id)
            yield Operation("index", doc_id, doc)
        if boundary is not None:
            self._cursor[plan.name] = boundary

    def next_cursor(self) -> Any:
        return dict(self._cursor)
