"""Deliberately broken variants of the PostgreSQL connector and runtime (and, through
broken_mysql.py, of the MySQL connector), for proving that
the standard suite fails on real bugs. Load with ``-p tests.harness.broken_variants
--broken-variant NAME`` and ``--subject inprocess`` (the patches live in this process)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import unicodedata
from typing import Any

import psycopg
import pytest
from psycopg import sql

from connectors import ids
from connectors import sync as sync_module
from connectors.es.sink import BulkSink
from connectors.source import SourceError
from connectors.sources.postgresql import queries as pg_plans
from connectors.sources.postgresql import source as postgresql_module
from connectors.sources.postgresql import types as pg_types
from connectors.sources.postgresql.source import PostgreSQLDataSource
from tests.harness.broken_confluence import CONFLUENCE_VARIANTS
from tests.harness.broken_engine import ENGINE_VARIANTS
from tests.harness.broken_identity import IDENTITY_VARIANTS
from tests.harness.broken_mysql import MYSQL_VARIANTS
from tests.harness.broken_outcomes import OUTCOME_VARIANTS
from tests.harness.broken_rules import RULES_VARIANTS
from tests.harness.broken_s3 import S3_VARIANTS
from tests.harness.broken_service import SERVICE_VARIANTS
from tests.harness.broken_sink import SINK_VARIANTS

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


async def _no_stale_deletion(*_args: Any, **_kwargs: Any) -> None:
    return None


def _duplicate_ids() -> None:
    original = PostgreSQLDataSource._docs

    async def docs(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        async for n, (doc, cursor) in _enumerate(original(self, *args, **kwargs)):
            if n % 50 == 0:
                yield doc._replace(id=doc.id + "#copy"), cursor
            yield doc, cursor

    PostgreSQLDataSource._docs = docs  # type: ignore[method-assign]


async def _enumerate(iterator):  # type: ignore[no-untyped-def]
    n = 0
    async for item in iterator:
        yield n, item
        n += 1


def _dropped_last_batch() -> None:
    original = BulkSink.close

    async def close(self):  # type: ignore[no-untyped-def]
        self._buffer, self._buffer_bytes = [], 0
        return await original(self)

    BulkSink.close = close  # type: ignore[method-assign]


def _wrong_type_conversion() -> None:
    original = pg_types.column_expression

    def numeric_as_text(column: str, type_oid: int) -> sql.Composable:
        expression = original(column, type_oid)
        return sql.SQL("{}::text").format(expression) if type_oid == 1700 else expression

    pg_plans.column_expression = numeric_as_text  # type: ignore[assignment]


def _cursor_not_persisted() -> None:
    PostgreSQLDataSource.next_cursor = lambda self: None  # type: ignore[method-assign]


def _delete_after_failed_read() -> None:
    original = PostgreSQLDataSource._rows

    async def rows(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            async for row in original(self, *args, **kwargs):
                yield row
        except SourceError:
            return  # the bug: a read error taken for the end of the data

    PostgreSQLDataSource._rows = rows  # type: ignore[method-assign]


def _unreadable_table_taken_for_dropped() -> None:
    """The old listing: information_schema hides tables without privileges, so an
    unreadable table looked like a dropped one and its documents were deleted."""
    original = pg_plans.list_tables

    async def readable_only(conn, schema):  # type: ignore[no-untyped-def]
        return {name: True for name, ok in (await original(conn, schema)).items() if ok}

    pg_plans.list_tables = readable_only  # type: ignore[assignment]


def _rewritten_docs(rewrite):  # type: ignore[no-untyped-def]
    """Every document the connector reads passes through ``rewrite`` (doc -> doc)."""
    original = PostgreSQLDataSource._docs

    async def docs(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        async for doc, cursor in original(self, *args, **kwargs):
            yield rewrite(doc), cursor

    PostgreSQLDataSource._docs = docs  # type: ignore[method-assign]


def _unescaped_composite_key() -> None:
    ids._escape = lambda value, special="|": str(value)  # type: ignore[assignment]


def _case_folded_ids() -> None:
    _rewritten_docs(lambda doc: doc._replace(id=doc.id.lower()))


def _nfc_normalising() -> None:
    def normalise(doc):  # type: ignore[no-untyped-def]
        body = unicodedata.normalize("NFC", bytes(doc.body).decode()).encode()
        return doc._replace(id=unicodedata.normalize("NFC", doc.id), body=body)

    _rewritten_docs(normalise)


def _id_split_at_first_colon() -> None:
    """The old decoding: split at the first ':', so a table whose name holds one is not
    found again, and a re-sync silently skips its changed rows."""

    def decode(doc_id):  # type: ignore[no-untyped-def]
        name, _, rest = doc_id.partition(":")
        return name, original_decode("x:" + rest)[1]

    from connectors import sql as sql_common

    original_decode = ids.decode_id
    sql_common.decode_id = decode  # type: ignore[assignment]


def _timestamptz_in_server_zone() -> None:
    """The session's zone is left to the server's default, so instants are rendered with
    the server's offset instead of in UTC."""
    postgresql_module.SESSION_SETTINGS = tuple(  # type: ignore[attr-defined]
        s for s in pg_types.SESSION_SETTINGS if "TimeZone" not in s
    )


def _date_shifted_by_zone() -> None:
    """Dates "normalised to UTC" in the connector's process: a date read as local midnight
    and converted to UTC lands on the previous day east of Greenwich."""

    def shift(doc):  # type: ignore[no-untyped-def]
        fields = json.loads(bytes(doc.body))
        for name, value in fields.items():
            if isinstance(value, str) and DATE.fullmatch(value):
                midnight = dt.datetime.fromisoformat(value)
                with contextlib.suppress(OverflowError, ValueError):  # year 1 stays as it is
                    fields[name] = midnight.astimezone(dt.UTC).date().isoformat()
        return doc._replace(body=json.dumps(fields).encode())

    _rewritten_docs(shift)


def _version_is_the_cursor() -> None:
    """The version token is the cursor column alone: a change that does not move the
    cursor is never seen by a full sync."""
    documents = pg_plans.Plan.documents

    def versions(self):  # type: ignore[no-untyped-def]
        column = self.cursor_column or self.id_columns[0]
        return sql.SQL("SELECT {}, md5(t.{}::text) FROM {} AS t").format(
            self._keys(), sql.Identifier(column), self.relation
        )

    def docs(self, where=None, by_cursor=False):  # type: ignore[no-untyped-def]
        keys = sql.SQL(", ").join(
            sql.SQL("d.{}").format(sql.Identifier(f"k{i}")) for i in range(len(self.id_columns))
        )
        return sql.SQL(
            "SELECT {}, md5(d.cursor_value), d.cursor_value, d.convert_to FROM ({}) AS d"
        ).format(keys, documents(self, where, by_cursor))

    pg_plans.Plan.select_versions = versions  # type: ignore[method-assign]
    pg_plans.Plan.documents = docs  # type: ignore[method-assign]


def _custom_query_as_simple_query() -> None:
    """The probe of a custom query sent through the simple protocol (no parameters, not
    prepared), which runs every statement in the text it is given."""
    original = psycopg.AsyncConnection.execute

    async def execute(self, query, params=None, *, prepare=None, binary=False):  # type: ignore[no-untyped-def]
        if prepare:
            return await original(self, query)
        return await original(self, query, params, prepare=prepare, binary=binary)

    psycopg.AsyncConnection.execute = execute  # type: ignore[method-assign]


def _resync_reads_everything() -> None:
    """No versions: an unchanged re-sync reads every document again (and writes nothing)."""
    PostgreSQLDataSource.supports_versions = False


VARIANTS = {
    **OUTCOME_VARIANTS,
    **MYSQL_VARIANTS,
    **S3_VARIANTS,
    **CONFLUENCE_VARIANTS,
    **RULES_VARIANTS,
    **SINK_VARIANTS,
    **IDENTITY_VARIANTS,
    **SERVICE_VARIANTS,
    **ENGINE_VARIANTS,
    "no-stale-deletion": lambda: setattr(sync_module, "_delete_stale", _no_stale_deletion),
    "duplicate-ids": _duplicate_ids,
    "dropped-last-batch": _dropped_last_batch,
    "wrong-type-conversion": _wrong_type_conversion,
    "cursor-not-persisted": _cursor_not_persisted,
    "delete-after-failed-read": _delete_after_failed_read,
    "unreadable-table-deleted": _unreadable_table_taken_for_dropped,
    "unescaped-composite-key": _unescaped_composite_key,
    "case-folded-ids": _case_folded_ids,
    "nfc-normalising": _nfc_normalising,
    "id-split-at-first-colon": _id_split_at_first_colon,
    "timestamptz-in-server-zone": _timestamptz_in_server_zone,
    "date-shifted-by-zone": _date_shifted_by_zone,
    "version-is-the-cursor": _version_is_the_cursor,
    "resync-reads-everything": _resync_reads_everything,
    "custom-query-as-simple-query": _custom_query_as_simple_query,
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--broken-variant", choices=sorted(VARIANTS), default=None)


def pytest_configure(config: pytest.Config) -> None:
    variant = config.getoption("broken_variant")
    if variant:
        VARIANTS[variant]()
