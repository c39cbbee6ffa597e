"""What to read from PostgreSQL: one plan per table or custom query, with its key columns
(and their types, so lookups by id can use the primary key index), and how ids are made."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from connectors.source import SourceError

VERSION_COLUMN = "__version"


@dataclass(frozen=True)
class Plan:
    name: str
    relation: sql.Composable  # a table, or a parenthesised query
    id_columns: tuple[str, ...]
    key_types: tuple[str, ...] | None = None  # None: compare as text (custom queries)
    cursor_column: str | None = None

    def select(self) -> sql.Composed:
        """Every column plus a version token: the md5 of the row's text, computed by the
        server, so an unchanged row can be recognised without converting it."""
        return sql.SQL("SELECT t.*, md5(t::text) AS {} FROM {} AS t").format(
            sql.Identifier(VERSION_COLUMN), self.relation
        )

    def select_versions(self) -> sql.Composed:
        keys = sql.SQL(", ").join(
            sql.SQL("t.{}").format(sql.Identifier(c)) for c in self.id_columns
        )
        return sql.SQL("SELECT {}, md5(t::text) FROM {} AS t").format(keys, self.relation)

    def select_by_keys(self) -> sql.Composed:
        """Rows whose keys are in the arrays passed as parameters (one array per column)."""
        types = self.key_types or ("text",) * len(self.id_columns)
        columns = [sql.SQL("t.{}").format(sql.Identifier(c)) for c in self.id_columns]
        if self.key_types is None:
            columns = [sql.SQL("{}::text").format(c) for c in columns]
        arrays = sql.SQL(", ").join(sql.SQL("%s::{}[]").format(sql.SQL(t)) for t in types)
        if len(columns) == 1:
            condition = sql.SQL("{} = ANY({})").format(columns[0], arrays)
        else:
            condition = sql.SQL("({}) IN (SELECT * FROM unnest({}))").format(
                sql.SQL(", ").join(columns), arrays
            )
        return self.select() + sql.SQL(" WHERE ") + condition


def _escape(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|")


def encode_id(plan_name: str, key_values: list[Any]) -> str:
    """``<table>:<key>``; composite keys joined by ``|`` (escaped inside values)."""
    return f"{plan_name}:" + "|".join(_escape(v) for v in key_values)


def decode_id(doc_id: str) -> tuple[str, list[str]]:
    name, _, rest = doc_id.partition(":")
    values, current, escaped = [], [], False
    for char in rest:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "|":
            values.append("".join(current))
            current = []
        else:
            current.append(char)
    values.append("".join(current))
    return name, values


async def discover_plans(conn: psycopg.AsyncConnection[Any], config: Any, where: str) -> list[Plan]:
    if config["queries"]:
        return [_query_plan(spec, config["cursor_column"]) for spec in config["queries"]]
    schema = config["schema"]
    rows = await (
        await conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "AND table_type = 'BASE TABLE' ORDER BY table_name",
            (schema,),
        )
    ).fetchall()
    existing = [r[0] for r in rows]
    wanted = existing if config["tables"] in (["*"], "*") else list(config["tables"])
    missing = sorted(set(wanted) - set(existing))
    if missing:
        raise SourceError(f"tables not found in schema {schema!r} of {where}: {missing}")
    keys = await _primary_keys(conn, schema)
    plans = []
    for table in wanted:
        id_columns = tuple(config["id_columns"].get(table) or keys.get(table) or ())
        if not id_columns:
            raise SourceError(
                f"table {schema}.{table} has no primary key; declare its key columns in "
                f'id_columns, e.g. {{"{table}": ["id"]}}'
            )
        types = await _column_types(conn, schema, table)
        unknown = [c for c in id_columns if c not in types]
        if unknown:
            raise SourceError(f"id_columns of {schema}.{table} name missing columns: {unknown}")
        cursor = config["cursor_column"] if config["cursor_column"] in types else None
        relation = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        plans.append(Plan(table, relation, id_columns, tuple(types[c] for c in id_columns), cursor))
    return plans


def _query_plan(spec: Any, cursor_column: str | None) -> Plan:
    if not isinstance(spec, dict) or not {"name", "query", "id_columns"} <= set(spec):
        raise SourceError("each custom query needs name, query and id_columns")
    # The user's SQL is literal text: its % signs are not parameter placeholders.
    relation = sql.SQL("({})").format(sql.SQL(spec["query"].replace("%", "%%")))
    return Plan(str(spec["name"]), relation, tuple(spec["id_columns"]), None, cursor_column)


async def _primary_keys(conn: psycopg.AsyncConnection[Any], schema: str) -> dict[str, list[str]]:
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


async def _column_types(
    conn: psycopg.AsyncConnection[Any], schema: str, table: str
) -> dict[str, str]:
    rows = await (
        await conn.execute(
            """SELECT a.attname::text, format_type(a.atttypid, NULL)
           FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped""",
            (schema, table),
        )
    ).fetchall()
    return {r[0]: r[1] for r in rows}
