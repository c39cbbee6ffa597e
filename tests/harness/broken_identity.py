"""Broken variants of the SQL connectors' identity and change detection, each caught by
the identity corpus's backwards composite key or its NULL-crossing updates
(fixtures/identity.py) in the standard suite's edge-case scenario. Registered through
``IDENTITY_VARIANTS`` in broken_variants.py."""

from __future__ import annotations

from typing import Any

from psycopg import sql

from connectors.sources.mysql import discovery as mysql_discovery
from connectors.sources.mysql import queries as mysql_plans
from connectors.sources.postgresql import queries as pg_queries


def rewritten(query: sql.Composed, *swaps: tuple[str, str]) -> sql.SQL:
    """A PostgreSQL plan's query with text swapped, each swap required to apply."""
    text = query.as_string(None)
    for old, new in swaps:
        assert old in text, f"the query no longer holds {old!r}: {text}"
        text = text.replace(old, new)
    return sql.SQL(text)


def _pg_key_sorted_by_name() -> None:
    """Key columns taken in name order, not the primary key's own order."""
    original = pg_queries._primary_keys

    async def by_name(conn: Any, schema: str) -> dict[str, list[str]]:
        return {table: sorted(keys) for table, keys in (await original(conn, schema)).items()}

    pg_queries._primary_keys = by_name


def _pg_version_from_values_run_together() -> None:
    """A row's version from its values joined with nothing between them, NULLs left out
    (string_agg skips them): ('x', NULL) and (NULL, 'x'), or ('ab', 'c') and ('a', 'bc'),
    are one version, so the re-sync takes the changed row for unchanged."""
    joined = "md5((SELECT string_agg(value, '') FROM json_each_text({})))"
    documents, versions = pg_queries.Plan.documents, pg_queries.Plan.select_versions

    def documents_joined(self: Any, *args: Any, **kwargs: Any) -> sql.SQL:
        return rewritten(documents(self, *args, **kwargs),
                         ("md5(d.document)", joined.format("d.document::json")))  # fmt: skip

    def versions_joined(self: Any) -> sql.SQL:
        old = "md5(row_to_json(x)::text)"
        return rewritten(versions(self), (old, joined.format("row_to_json(x)")))

    pg_queries.Plan.documents = documents_joined  # type: ignore[method-assign,assignment]
    pg_queries.Plan.select_versions = versions_joined  # type: ignore[method-assign,assignment]


def _mysql_key_sorted_by_name() -> None:
    original = mysql_discovery._primary_key

    async def by_name(cur: Any, database: str, table: str) -> list[str]:
        return sorted(await original(cur, database, table))

    mysql_discovery._primary_key = by_name


def _mysql_version(values_of: Any) -> None:
    def version(self: Any) -> str:
        values = [f"t.`{c.name}`" for c in self.columns]
        return f"MD5({values_of(values)})"

    mysql_plans.Plan.version = version  # type: ignore[method-assign]


MYSQL_SKIPS_NULLS = "CONCAT_WS(0x1f, {})"  # CONCAT_WS leaves NULLs out: no lengths after
MYSQL_RUN_TOGETHER = "CONCAT({})"  # NULL-safe, but nothing between the values


IDENTITY_VARIANTS = {
    "composite-key-sorted-by-name": _pg_key_sorted_by_name,
    "version-from-values-run-together": _pg_version_from_values_run_together,
    "mysql-composite-key-sorted-by-name": _mysql_key_sorted_by_name,
    "mysql-version-skips-nulls": lambda: _mysql_version(
        lambda values: MYSQL_SKIPS_NULLS.format(", ".join(values))
    ),
    "mysql-version-values-run-together": lambda: _mysql_version(
        lambda values: MYSQL_RUN_TOGETHER.format(", ".join(f"IFNULL({v}, '')" for v in values))
    ),
}
