"""The PostgreSQL source through the data-source API alone, each call on a fresh instance:
nothing may depend on another call (validation, say) having run first."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import psycopg
import pytest

from connectors.sources.postgresql.source import PostgreSQLDataSource

pytestmark = pytest.mark.services


def fresh(pg_endpoint, schema: str) -> PostgreSQLDataSource:
    return PostgreSQLDataSource(
        {
            "host": pg_endpoint.host,
            "port": pg_endpoint.port,
            "username": pg_endpoint.user,
            "password": pg_endpoint.password.reveal(),
            "database": pg_endpoint.dbname,
            "schema": schema,
            "cursor_column": "at",
        }
    )


Call = Callable[[PostgreSQLDataSource], AsyncIterator[Any]]


def collect(source: PostgreSQLDataSource, call: Call) -> list[Any]:
    async def go() -> list[Any]:
        try:
            return [item async for item in call(source)]
        finally:
            await source.close()

    return asyncio.run(go())


def test_each_call_works_on_a_fresh_source(pg_endpoint, pg_schema):
    with psycopg.connect(pg_endpoint.dsn(), autocommit=True) as conn:
        conn.execute(f"""CREATE TABLE {pg_schema}.t (id int PRIMARY KEY, at timestamp NOT NULL);
                         INSERT INTO {pg_schema}.t VALUES (1, '2024-01-01'), (2, '2024-01-02')""")
    docs = collect(fresh(pg_endpoint, pg_schema), lambda s: s.get_docs())
    versions = collect(fresh(pg_endpoint, pg_schema), lambda s: s.get_versions())
    by_ids = collect(fresh(pg_endpoint, pg_schema), lambda s: s.get_docs_by_ids([docs[1].id]))
    changes = collect(fresh(pg_endpoint, pg_schema), lambda s: s.get_docs_incrementally(None))
    assert [d.id for d in docs] == ["t:1", "t:2"]
    assert [i for i, _ in versions] == ["t:1", "t:2"]
    assert [d.id for d in by_ids] == ["t:2"]
    assert [op.doc_id for op in changes] == ["t:1", "t:2"]
