"""Which plans a MySQL/MariaDB source reads: the tables of the database (their columns,
primary keys, and MariaDB's JSON columns, which information_schema calls longtext), or
the custom queries, described from the metadata of a result of no rows."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from connectors.source import SourceError
from connectors.sources.mysql.queries import Column, Plan, quoted, server_reason


async def discover_plans(cur: Any, config: Any, where: str) -> list[Plan]:
    if config["queries"]:
        return [await query_plan(cur, spec, config, where) for spec in config["queries"]]
    database = config["database"]
    await cur.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = %s AND table_type = 'BASE TABLE'",
        (database,),
    )
    existing = sorted(str(row[0]) for row in await cur.fetchall())
    wanted = existing if config["tables"] in (["*"], "*") else list(config["tables"])
    missing = sorted(set(wanted) - set(existing))
    if missing:
        denied = [t for t in missing if await probe_table(cur, database, t) != NO_SUCH_TABLE]
        raise SourceError(
            f"tables not found in database {database!r} of {where}: {missing}"
            + (f"; the connector's user lacks the SELECT privilege on {denied}" if denied else "")
        )
    plans = []
    for table in wanted:
        columns = await _columns(cur, database, table)
        keys = config["id_columns"].get(table) or await _primary_key(cur, database, table)
        if not keys:
            raise SourceError(
                f"table {database}.{table} has no primary key; declare its key columns in "
                f'id_columns, e.g. {{"{table}": ["id"]}}'
            )
        names = [c.name for c in columns]
        unknown = [k for k in keys if k not in names]
        if unknown:
            raise SourceError(f"id_columns of {database}.{table} name missing columns: {unknown}")
        cursor = config["cursor_column"] if config["cursor_column"] in names else None
        plans.append(Plan(table, database, tuple(keys), columns, cursor))
    return plans


NO_SUCH_TABLE = 1146  # ER_NO_SUCH_TABLE; a table one may not read answers 1142 instead


async def probe_table(cur: Any, database: str, table: str) -> int | str | None:
    """None if the table can be read; else the server's error code (or its message).
    MySQL hides a table without privileges from information_schema, but reading it names
    the privilege, and a dropped table answers NO_SUCH_TABLE."""
    try:
        await cur.execute(f"SELECT 1 FROM {quoted(database)}.{quoted(table)} LIMIT 0", ())
        await cur.fetchall()
    except Exception as exc:
        code = getattr(exc, "args", (None,))[0]
        return code if isinstance(code, int) else server_reason(exc)
    return None


async def confirm_dropped(cur: Any, database: str, tables: list[str], where: str) -> None:
    """A table whose documents are in the index but that the listing of all tables lost
    is gone only if the server says it does not exist; anything else fails the sync."""
    for table in tables:
        answer = await probe_table(cur, database, table)
        if answer == NO_SUCH_TABLE:
            continue
        why = (
            "it can be read, so it was created during the sync; the next sync reads it"
            if answer is None
            else "the connector's user lacks the SELECT privilege on it, or it is hidden "
            "from it; grant SELECT on it, or if it is gone for good, name the remaining "
            "tables in `tables`"
        )
        raise SourceError(
            f"table {database}.{table} has documents in the index but was not listed by "
            f"{where}: {why}. Nothing was deleted"
        )


async def _columns(cur: Any, database: str, table: str) -> tuple[Column, ...]:
    await cur.execute(
        "SELECT column_name, data_type, column_type FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        (database, table),
    )
    columns = [Column(str(n), str(d), str(t)) for n, d, t in await cur.fetchall()]
    json_columns = await _mariadb_json_columns(cur, database, table)
    return tuple(
        Column(c.name, "json", c.column_type) if c.name in json_columns else c for c in columns
    )


async def _mariadb_json_columns(cur: Any, database: str, table: str) -> set[str]:
    """MariaDB's JSON is LONGTEXT with a ``json_valid(col)`` check; MySQL reports 'json'."""
    try:
        await cur.execute(
            "SELECT check_clause FROM information_schema.check_constraints "
            "WHERE constraint_schema = %s AND table_name = %s",
            (database, table),
        )
    except Exception:  # MySQL before 8.0.16 has no such view: its JSON is typed anyway
        return set()
    found = set()
    for (clause,) in await cur.fetchall():
        match = re.fullmatch(r"json_valid\(`((?:[^`]|``)+)`\)", str(clause).strip())
        if match:
            found.add(match.group(1).replace("``", "`"))
    return found


async def _primary_key(cur: Any, database: str, table: str) -> list[str]:
    await cur.execute(
        "SELECT column_name FROM information_schema.key_column_usage "
        "WHERE table_schema = %s AND table_name = %s AND constraint_name = 'PRIMARY' "
        "ORDER BY ordinal_position",
        (database, table),
    )
    return [str(row[0]) for row in await cur.fetchall()]


# Result metadata (type code, flags, character set) -> information_schema's data_type.
_RESULT_TYPES = {
    0: "decimal", 246: "decimal", 1: "tinyint", 2: "smallint", 3: "int", 4: "float",
    5: "double", 7: "timestamp", 8: "bigint", 9: "mediumint", 10: "date", 11: "time",
    12: "datetime", 13: "year", 16: "bit", 245: "json", 255: "geometry",
}  # fmt: skip
UNSIGNED_FLAG, ENUM_FLAG, SET_FLAG, BINARY_CHARSET = 32, 256, 2048, 63


def result_column(name: str, type_code: int, flags: int, charset: int, length: int) -> Column:
    """A custom query's column as a table's would be described, from its result metadata.
    (MariaDB's JSON is text there: a query's JSON column maps to a string.)"""
    if flags & SET_FLAG:
        data_type = "set"
    elif flags & ENUM_FLAG:
        data_type = "enum"
    elif type_code in _RESULT_TYPES:
        data_type = _RESULT_TYPES[type_code]
    elif 249 <= type_code <= 252:
        data_type = "blob" if charset == BINARY_CHARSET else "text"
    else:
        data_type = "varbinary" if charset == BINARY_CHARSET else "varchar"
    full = data_type + ("(1)" if data_type == "tinyint" and length == 1 else "")
    return Column(name, data_type, full + (" unsigned" if flags & UNSIGNED_FLAG else ""))


async def query_plan(cur: Any, spec: Any, config: Any, where: str) -> Plan:
    """A custom query's plan: its columns from a result of no rows."""
    if not isinstance(spec, dict) or not {"name", "query", "id_columns"} <= set(spec):
        raise SourceError("each custom query needs name, query and id_columns")
    plan = Plan(str(spec["name"]), config["database"], tuple(spec["id_columns"]), (), None,
                str(spec["query"]))  # fmt: skip
    try:
        await cur.execute(f"SELECT * FROM {plan.relation} AS t LIMIT 0", ())
    except Exception as exc:
        raise SourceError(
            f"custom query {plan.name!r} cannot be read from {where}: {server_reason(exc)}"
        ) from None
    fields = cur._result.fields  # description lacks the flags (unsigned, set, enum)
    columns = tuple(
        result_column(f.name, f.type_code, f.flags, f.charsetnr, f.length) for f in fields
    )
    names = [c.name for c in columns]
    missing = [k for k in plan.id_columns if k not in names]
    if missing:
        raise SourceError(f"{plan.name!r}: key columns {missing} are not among its columns {names}")
    cursor = config["cursor_column"] if config["cursor_column"] in names else None
    return replace(plan, columns=columns, cursor_column=cursor)
