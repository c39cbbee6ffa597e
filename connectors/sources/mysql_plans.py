"""What to read from MySQL/MariaDB: one plan per table, with its key columns, and the
expression each column is read through, so that the driver never has to guess a type.

The type mapping (docs/mysql.md) is made of two halves: the server renders each value as
text or a number (``column_expression``), and ``convert`` turns that into the documented
JSON value. The version of a row is the server's MD5 of its stored values, so listing
versions reads no document."""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from typing import Any

from connectors.source import SourceError


def server_reason(exc: BaseException) -> str:
    """The server's message ("(1045, 'Access denied ...')" -> "1045 Access denied ...")."""
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    if len(args) >= 2:
        return f"{args[0]} {args[1]}"
    return str(exc) or type(exc).__name__


def quoted(identifier: str) -> str:
    """A backquoted identifier (a backquote inside is doubled; ``%`` too, as every query
    goes through the driver's parameter formatting)."""
    return "`" + identifier.replace("`", "``").replace("%", "%%") + "`"


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str  # information_schema.columns.data_type: "bigint", "datetime", ...
    column_type: str  # the full type: "bigint(20) unsigned", "tinyint(1)", "set('a','b')"

    @property
    def kind(self) -> str:
        """The mapping rule this column follows (docs/mysql.md)."""
        t, full = self.data_type.lower(), self.column_type.lower()
        if t == "tinyint" and full.startswith("tinyint(1)"):
            return "bool"
        if t == "bigint" and "unsigned" in full:
            return "text"  # above 2^63 no JSON number survives: digits, always
        return _KINDS.get(t, "text")


_KINDS = {
    **dict.fromkeys(("tinyint", "smallint", "mediumint", "int", "bigint", "year"), "int"),
    "bit": "int",
    "decimal": "text",  # exact: digits as the server prints them
    "float": "float32",
    "double": "float",
    "date": "date",
    "datetime": "datetime",
    "timestamp": "timestamp",
    "time": "text",  # may be negative or past 24 h: "-838:59:59"
    "json": "json",
    "set": "set",
    **dict.fromkeys(
        ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"), "base64"
    ),
    **dict.fromkeys(
        (
            "geometry",
            "point",
            "linestring",
            "polygon",
            "multipoint",
            "multilinestring",
            "multipolygon",
            "geometrycollection",
        ),
        "wkt",
    ),
}


def column_expression(column: Column) -> str:
    """How the server renders the column (``t`` is the table's alias)."""
    c = f"t.{quoted(column.name)}"
    kind = column.kind
    if kind == "bool":
        return f"({c} <> 0)"
    if kind == "int" and column.data_type.lower() == "bit":
        return f"CAST({c} AS UNSIGNED)"
    if kind == "float32":
        # Exactly: the text protocol shows a FLOAT to 6 digits on MariaDB (123456.7 comes
        # as "123457"); as a double it comes whole, and ``shortest_float32`` shortens it.
        return f"CAST({c} AS DOUBLE)"
    if kind in ("date", "datetime", "timestamp"):
        # Zero and partial dates (permissive sql_mode) have no calendar date: null.
        return f"IF(MONTH({c}) = 0 OR DAYOFMONTH({c}) = 0, NULL, CAST({c} AS CHAR))"
    if kind == "base64":
        return f"REPLACE(TO_BASE64({c}), '\\n', '')"
    if kind == "wkt":
        return f"ST_AsText({c})"
    if kind in ("int", "float"):
        return c
    return f"CAST({c} AS CHAR)"


# The largest 32-bit float, and where rounding to it stops (FLT_MAX + half an ulp).
FLOAT32_MAX = 3.4028234663852886e38
FLOAT32_ROUNDS_TO_MAX = 3.4028235677973366e38


def _float32_bits(value: float) -> bytes | None:
    """The 32-bit float ``value`` rounds to (struct refuses what rounds down to the max)."""
    try:
        return struct.pack("<f", value)
    except OverflowError:
        if abs(value) < FLOAT32_ROUNDS_TO_MAX:
            return struct.pack("<f", math.copysign(FLOAT32_MAX, value))
        return None


@lru_cache(maxsize=4096)  # FLOAT columns repeat their values (ratings, scores)
def shortest_float32(value: Any) -> float:
    """The shortest decimal that reads back as the same 32-bit float: 1.1, not its double
    1.100000023841858; 123456.7, not MariaDB's six-digit 123457."""
    exact = float(value)
    if exact != exact or exact in (math.inf, -math.inf):
        return exact
    bits = _float32_bits(exact)
    for digits in range(1, 10):
        candidate = float(f"{exact:.{digits}g}")
        if _float32_bits(candidate) == bits:
            return candidate
    return exact


def _datetime(text: str) -> str:
    return text.replace(" ", "T", 1)


def _timestamp(text: str) -> str:
    return text.replace(" ", "T", 1) + "Z"  # read with the session zone at +00:00


def _json(text: str) -> Any:
    import orjson

    return orjson.loads(text)


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "bool": lambda v: bool(v),
    "int": int,
    "float": lambda v: float(v),
    "float32": shortest_float32,
    "text": lambda v: v if isinstance(v, str) else bytes(v).decode("utf-8", "replace"),
    "date": str,
    "datetime": _datetime,
    "timestamp": _timestamp,
    "json": _json,
    "set": lambda v: [item for item in str(v).split(",") if item],
    "base64": str,
    "wkt": str,
}


# Kinds whose values the driver already gives as the mapping's: integers and doubles as
# numbers, text (rendered CAST(... AS CHAR)) as str.
PASSED_THROUGH = frozenset({"int", "float", "text"})


@dataclass(frozen=True)
class Plan:
    name: str  # the table
    database: str
    id_columns: tuple[str, ...]
    columns: tuple[Column, ...]
    cursor_column: str | None = None
    query: str | None = None  # a custom query, read instead of the table ``name``

    @property
    def relation(self) -> str:
        if self.query is not None:
            return "(" + self.query.replace("%", "%%") + ")"  # its % are not parameters
        return f"{quoted(self.database)}.{quoted(self.name)}"

    def _keys(self) -> str:
        return ", ".join(f"CAST(t.{quoted(c)} AS CHAR)" for c in self.id_columns)

    def version(self) -> str:
        """MD5 of the stored values as the server writes them as text, then each one's
        length (or n for NULL), so no two rows share an input by shifting a separator.
        Stored values, not rendered ones: rendering costs the server twice as much (0.73 s
        against 0.30 s for the 100k-row items table); the FLOAT alone is widened, as its
        text keeps only six digits."""
        values = [
            f"CAST(t.{quoted(c.name)} AS DOUBLE)" if c.kind == "float32" else f"t.{quoted(c.name)}"
            for c in self.columns
        ]
        lengths = ", ".join(f"IFNULL(LENGTH({v}), 'n')" for v in values)
        return f"MD5(CONCAT_WS(0x1f, {', '.join(values)}, CONCAT_WS(',', {lengths})))"

    def select(self, where: str = "", by_cursor: bool = False) -> str:
        """keys..., version, cursor value, every column rendered."""
        cursor = f"CAST(t.{quoted(self.cursor_column)} AS CHAR)" if self.cursor_column else "NULL"
        rendered = ", ".join(column_expression(c) for c in self.columns)
        query = (
            f"SELECT {self._keys()}, {self.version()}, {cursor}, {rendered} "
            f"FROM {self.relation} AS t"
        )
        if where:
            query += f" WHERE {where}"
        if by_cursor and self.cursor_column:
            query += f" ORDER BY t.{quoted(self.cursor_column)}"
        return query

    def select_versions(self) -> str:
        return f"SELECT {self._keys()}, {self.version()} FROM {self.relation} AS t"

    def since(self) -> str:
        assert self.cursor_column is not None
        return f"t.{quoted(self.cursor_column)} >= %s"

    def by_keys(self, count: int) -> str:
        """Rows whose key is one of ``count`` keys (parameters, key by key)."""
        one = "(" + ", ".join(f"t.{quoted(c)}" for c in self.id_columns) + ")"
        marks = "(" + ", ".join(["%s"] * len(self.id_columns)) + ")"
        return f"{one} IN ({', '.join([marks] * count)})"

    @cached_property
    def _converted(self) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
        """Each column's name and converter, chosen once; None where the driver's value
        is already the document's (numbers, text)."""
        return tuple(
            (c.name, None if c.kind in PASSED_THROUGH else CONVERTERS[c.kind]) for c in self.columns
        )

    def document(self, values: tuple[Any, ...]) -> dict[str, Any]:
        doc: dict[str, Any] = {"_table": self.name}
        for (name, convert), value in zip(self._converted, values, strict=True):
            doc[name] = value if convert is None or value is None else convert(value)
        return doc


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
        raise SourceError(f"tables not found in database {database!r} of {where}: {missing}")
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
