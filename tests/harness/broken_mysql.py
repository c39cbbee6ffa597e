"""Broken variants of the MySQL connector: the mapping mistakes MySQL connectors make.
Registered through ``MYSQL_VARIANTS`` in broken_variants.py; each must fail
``scenarios/mysql`` with a message naming the value it got wrong."""

from __future__ import annotations

from typing import Any

from connectors.source import BaseDataSource
from connectors.sources.mysql import discovery as mysql_discovery
from connectors.sources.mysql import driver as mysql_driver
from connectors.sources.mysql import queries as mysql_plans
from connectors.sources.mysql import source as mysql_module


def _with_kind(data_type: str, kind: str, expression: Any = None) -> None:
    """Columns of ``data_type`` follow the mapping rule ``kind`` instead of theirs,
    rendered through ``expression(column_sql)`` when given."""
    original_kind = mysql_plans.Column.kind
    original_expression = mysql_plans.column_expression

    def kind_of(self: mysql_plans.Column) -> str:
        return kind if self.data_type.lower() == data_type else original_kind.fget(self)  # type: ignore[attr-defined]

    def rendered(column: mysql_plans.Column) -> str:
        if expression is not None and column.data_type.lower() == data_type:
            return str(expression(f"t.{mysql_plans.quoted(column.name)}"))
        return original_expression(column)

    mysql_plans.Column.kind = property(kind_of)  # type: ignore[method-assign,assignment]
    mysql_plans.column_expression = rendered  # type: ignore[assignment]


def _unsigned_bigint_as_signed() -> None:
    """BIGINT UNSIGNED read as a signed 64-bit number: above 2^63 it wraps negative."""
    _with_kind("bigint", "int", lambda c: f"CAST({c} AS SIGNED)")


def _timestamp_in_session_zone() -> None:
    """The session's zone is left to the server's: TIMESTAMP values come out in its local
    time, still labelled UTC."""
    mysql_module.SESSION = tuple(s for s in mysql_module.SESSION if "time_zone" not in s)


def _float_as_server_text() -> None:
    """FLOAT read as the server prints it, then as a number: six significant digits on
    MariaDB."""
    mysql_plans.CONVERTERS["printed-float"] = float
    _with_kind("float", "printed-float", lambda c: f"CAST({c} AS CHAR)")


def _json_as_text() -> None:
    """MariaDB's JSON (a checked LONGTEXT) taken for text: objects arrive as strings."""
    original = mysql_discovery._mariadb_json_columns

    async def none(*_args: Any) -> set[str]:
        await original(*_args)
        return set()

    mysql_discovery._mariadb_json_columns = none  # type: ignore[assignment]


def _set_as_text() -> None:
    """SET values as the server's comma-joined text instead of an array of members."""
    _with_kind("set", "text")


def _multi_statements_on() -> None:
    """The session keeps asyncmy's multi-statement support: a custom query that closes
    the probe's subquery runs statements of its own (issue 25: a DROP TABLE committed)."""

    async def kept(_conn: Any) -> None:
        return None

    mysql_driver.single_statements = kept  # type: ignore[assignment]


def _unlisted_table_taken_for_dropped() -> None:
    """No vetting before stale deletion: with tables ['*'], a table whose SELECT was
    revoked vanishes from the listing and its documents are deleted as if it were dropped."""
    mysql_module.MySQLDataSource.confirm_gone = BaseDataSource.confirm_gone  # type: ignore[method-assign]


MYSQL_VARIANTS = {
    "mysql-unsigned-bigint-as-signed": _unsigned_bigint_as_signed,
    "mysql-timestamp-in-session-zone": _timestamp_in_session_zone,
    "mysql-float-as-server-text": _float_as_server_text,
    "mysql-json-as-text": _json_as_text,
    "mysql-set-as-text": _set_as_text,
    "mysql-multi-statements-on": _multi_statements_on,
    "mysql-unlisted-table-taken-for-dropped": _unlisted_table_taken_for_dropped,
}
