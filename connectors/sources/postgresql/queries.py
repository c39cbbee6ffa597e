"""What to read from PostgreSQL: one plan per table or custom query, with its key columns
(and their types, so lookups by id can use the primary key index), and how ids are made."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import psycopg
from psycopg import sql

from connectors.source import SourceError
from connectors.sources.postgresql.types import column_expression


@dataclass(frozen=True)
class Plan:
    name: str
    relation: sql.Composable  # a table, or a parenthesised query
    id_columns: tuple[str, ...]
    key_types: tuple[str, ...] | None = None  # None: compare as text (custom queries)
    cursor_column: str | None = None
    columns: tuple[tuple[str, int], ...] = ()  # (name, type oid) of every column

    def _keys(self) -> sql.Composable:
        return sql.SQL(", ").join(
            sql.SQL("t.{}::text AS {}").format(sql.Identifier(c), sql.Identifier(f"k{i}"))
            for i, c in enumerate(self.id_columns)
        )

    def _fields(self) -> sql.Composable:
        return sql.SQL(", ").join(
            [
                sql.SQL("{} AS {}").format(column_expression(n, oid), sql.Identifier(n))
                for n, oid in self.columns
            ]
            + [sql.SQL("{} AS {}").format(sql.Literal(self.name), sql.Identifier("_table"))]
        )

    def documents(
        self, where: sql.Composable | None = None, by_cursor: bool = False
    ) -> sql.Composed:
        """Rows as (key values as text..., version, cursor value, document JSON).

        The document is serialised by the server (see types.py), once; its md5 is the
        version, so an unchanged row is later recognised without being read."""
        cursor = (
            sql.SQL("to_json(t.{}) #>> '{{}}'").format(sql.Identifier(self.cursor_column))
            if self.cursor_column
            else sql.SQL("NULL")
        )
        inner = sql.SQL(
            "SELECT {keys}, {cursor} AS cursor_value, row_to_json(x)::text AS document "
            "FROM {relation} AS t, LATERAL (SELECT {fields}) AS x"
        ).format(keys=self._keys(), cursor=cursor, relation=self.relation, fields=self._fields())
        if where is not None:
            inner += sql.SQL(" WHERE ") + where
        if by_cursor and self.cursor_column:
            inner += sql.SQL(" ORDER BY t.{}").format(sql.Identifier(self.cursor_column))
        keys = sql.SQL(", ").join(
            sql.SQL("d.{}").format(sql.Identifier(f"k{i}")) for i in range(len(self.id_columns))
        )
        # bytea: with a binary cursor the document arrives as bytes, never decoded to text.
        return sql.SQL(
            "SELECT {keys}, md5(d.document), d.cursor_value, convert_to(d.document, 'UTF8') "
            "FROM ({inner}) AS d"
        ).format(keys=keys, inner=inner)

    def select_versions(self) -> sql.Composed:
        """(key values as text..., version): the same md5 as ``documents`` gives."""
        return sql.SQL(
            "SELECT {keys}, md5(row_to_json(x)::text) "
            "FROM {relation} AS t, LATERAL (SELECT {fields}) AS x"
        ).format(keys=self._keys(), relation=self.relation, fields=self._fields())

    def by_keys(self) -> sql.Composed:
        """A condition: keys in the arrays passed as parameters (one array per column),
        typed like the key columns so the primary key index serves the lookup."""
        types = self.key_types or ("text",) * len(self.id_columns)
        columns = [sql.SQL("t.{}").format(sql.Identifier(c)) for c in self.id_columns]
        if self.key_types is None:
            columns = [sql.SQL("{}::text").format(c) for c in columns]
        arrays = sql.SQL(", ").join(sql.SQL("%s::{}[]").format(sql.SQL(t)) for t in types)
        if len(columns) == 1:
            return sql.SQL("{} = ANY({})").format(columns[0], arrays)
        return sql.SQL("({}) IN (SELECT * FROM unnest({}))").format(
            sql.SQL(", ").join(columns), arrays
        )

    def since(self) -> sql.Composed:
        assert self.cursor_column is not None
        return sql.SQL("t.{} >= %s").format(sql.Identifier(self.cursor_column))


async def discover_plans(conn: psycopg.AsyncConnection[Any], config: Any, where: str) -> list[Plan]:
    if config["queries"]:
        plans = [_query_plan(spec, config["cursor_column"]) for spec in config["queries"]]
        return [await _with_columns(conn, plan, where) for plan in plans]
    schema = config["schema"]
    existing = await list_tables(conn, schema)
    wanted = sorted(existing) if config["tables"] in (["*"], "*") else list(config["tables"])
    missing = sorted(set(wanted) - set(existing))
    if missing:
        raise SourceError(f"tables not found in schema {schema!r} of {where}: {missing}")
    unreadable = [t for t in wanted if not existing[t]]
    if unreadable:
        # A table we may not read is not a table without rows: treating it as gone would
        # delete its documents. Fail the whole sync instead, before anything is written.
        names = ", ".join(f"{schema}.{t}" for t in unreadable)
        raise SourceError(
            f"permission denied: the connector's user lacks the SELECT privilege on {names} "
            f"in {where}; grant it (GRANT SELECT ON ... TO the connector's user) or list "
            "only readable tables in `tables`. Nothing was synced or deleted"
        )
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
    return [await _with_columns(conn, plan, where) for plan in plans]


async def _with_columns(conn: psycopg.AsyncConnection[Any], plan: Plan, where: str) -> Plan:
    """The plan with its columns, probed from the server (custom queries included)."""
    try:
        probe = sql.SQL("SELECT * FROM {} AS t LIMIT 0").format(plan.relation)
        # Prepared: the extended protocol takes exactly one statement, so a custom query
        # cannot close the subquery and run statements of its own. () makes %% read as %.
        cur = await conn.execute(probe, (), prepare=True)
    except psycopg.errors.SyntaxError as exc:
        if "multiple commands" in str(exc):
            raise SourceError(
                f"custom query {plan.name!r} holds more than one statement: a query must be a "
                "single SELECT (check it for a ';' or an unbalanced parenthesis)"
            ) from None
        raise _unreadable(plan, where, exc) from None
    except psycopg.Error as exc:
        raise _unreadable(plan, where, exc) from None
    assert cur.description is not None
    columns = tuple((col.name, col.type_code) for col in cur.description)
    names = [name for name, _ in columns]
    missing = [k for k in plan.id_columns if k not in names]
    if missing:
        raise SourceError(f"{plan.name!r}: key columns {missing} are not among its columns {names}")
    cursor = plan.cursor_column if plan.cursor_column in names else None
    return replace(plan, columns=columns, cursor_column=cursor)


def _unreadable(plan: Plan, where: str, exc: Exception) -> SourceError:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return SourceError(f"{plan.name!r} cannot be read from {where}: {first}")


async def list_tables(conn: psycopg.AsyncConnection[Any], schema: str) -> dict[str, bool]:
    """Every table of the schema, whether this user may read it or not (information_schema
    would hide the ones without privileges), mapped to whether it may."""
    rows = await (
        await conn.execute(
            """SELECT c.relname::text, has_table_privilege(c.oid, 'SELECT')
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relkind IN ('r', 'p')""",
            (schema,),
        )
    ).fetchall()
    return {r[0]: bool(r[1]) for r in rows}


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
