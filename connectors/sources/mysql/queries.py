"""What to read from MySQL/MariaDB: one plan per table, with its key columns, and the
expression each column is read through, so that the driver never has to guess a type.

The type mapping (docs/mysql.md) is made of two halves: the server renders each value as
text or a number (``column_expression``), and ``convert`` turns that into the documented
JSON value. The version of a row is the server's MD5 of its stored values, so listing
versions reads no document."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import orjson

from connectors.documents import SourceDocument
from connectors.ids import encode_id


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
        # Zero and partial dates (permissive sql_mode) have no calendar date: null. The
        # server writes the ISO form itself ('T'; 'Z' for TIMESTAMP, read at +00:00).
        text = f"CAST({c} AS CHAR)"
        if kind != "date":
            text = f"REPLACE({text}, ' ', 'T')"
        if kind == "timestamp":
            text = f"CONCAT({text}, 'Z')"
        return f"IF(MONTH({c}) = 0 OR DAYOFMONTH({c}) = 0, NULL, {text})"
    if kind == "base64":
        # CHAR(10), not a quoted backslash-n: a server in NO_BACKSLASH_ESCAPES mode reads
        # that as two characters, and the base64 would keep its line breaks.
        return f"REPLACE(TO_BASE64({c}), CHAR(10 USING utf8mb4), '')"
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


# The kinds whose driver value is not yet the document's (the others: PASSED_THROUGH).
CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "bool": lambda v: bool(v),
    "float32": shortest_float32,
    "json": orjson.loads,
    "set": lambda v: [item for item in str(v).split(",") if item],
}


# Kinds whose values the driver already gives as the mapping's: integers and doubles as
# numbers, everything the server renders as text (column_expression) as str.
PASSED_THROUGH = frozenset(
    {"int", "float", "text", "date", "datetime", "timestamp", "base64", "wkt"}
)


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

    @cached_property
    def _id_prefix(self) -> str:
        return encode_id(self.name, ("",))  # "<table, escaped>:"

    def id_of(self, row: tuple[Any, ...]) -> str:
        """The document id of a row that starts with its key values (rendered as text)."""
        key = row[0]
        if len(self.id_columns) == 1 and key is not None and "|" not in key and "\\" not in key:
            return str(self._id_prefix + key)  # nothing to escape: the common case, fast
        return encode_id(self.name, row[: len(self.id_columns)])

    def source_document(self, row: tuple[Any, ...]) -> SourceDocument:
        """A row of ``select()``: keys..., version, cursor value, the columns."""
        width = len(self.id_columns)
        return SourceDocument(self.id_of(row), self.document(row[width + 2 :]), row[width])

    def document(self, values: tuple[Any, ...]) -> dict[str, Any]:
        doc: dict[str, Any] = {"_table": self.name}
        for (name, convert), value in zip(self._converted, values, strict=True):
            doc[name] = value if convert is None or value is None else convert(value)
        return doc
