"""The PostgreSQL connector only reads, whatever its configuration says: a custom query
cannot smuggle in statements, and nothing it runs may write."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from connectors.source import SourceError
from connectors.sources.postgresql.source import PostgreSQLDataSource

pytestmark = pytest.mark.services

# Closes the probe's subquery, runs a statement of its own, and reopens one.
SMUGGLED = (
    "SELECT 1 AS id) AS t LIMIT 0; CREATE TABLE pwned AS SELECT now() AS at; "
    "SELECT * FROM (SELECT 1 AS id"
)


def source_for(pg_endpoint, schema: str, query: str) -> PostgreSQLDataSource:
    return PostgreSQLDataSource(
        {
            "host": pg_endpoint.host,
            "port": pg_endpoint.port,
            "username": pg_endpoint.user,  # a superuser: only the connector's rules stop it
            "password": pg_endpoint.password.reveal(),
            "database": pg_endpoint.dbname,
            "schema": schema,
            "queries": [{"name": "q", "query": query, "id_columns": ["id"]}],
        }
    )


async def read_all(source: PostgreSQLDataSource) -> list:
    try:
        await source.validate_config()
        return [doc async for doc in source.get_docs()]
    finally:
        await source.close()


def exists(pg_endpoint, schema: str, table: str) -> bool:
    with psycopg.connect(pg_endpoint.dsn()) as conn:
        found = conn.execute("SELECT to_regclass(%s)", (f"{schema}.{table}",)).fetchone()
    return found is not None and found[0] is not None


def test_a_custom_query_with_several_statements_is_refused(pg_endpoint, pg_schema):
    with pytest.raises(SourceError, match="'q' holds more than one statement"):
        asyncio.run(read_all(source_for(pg_endpoint, pg_schema, SMUGGLED)))
    assert not exists(pg_endpoint, pg_schema, "pwned")


def test_the_connectors_session_cannot_write(pg_endpoint, pg_schema):
    with psycopg.connect(pg_endpoint.dsn(), autocommit=True) as conn:
        conn.execute(f"""
            CREATE TABLE {pg_schema}.log (at timestamptz);
            CREATE FUNCTION {pg_schema}.logged() RETURNS int LANGUAGE sql
                AS 'INSERT INTO {pg_schema}.log VALUES (now()) RETURNING 1'""")
    with pytest.raises(SourceError, match="read-only transaction"):
        asyncio.run(read_all(source_for(pg_endpoint, pg_schema, "SELECT logged() AS id")))
    with psycopg.connect(pg_endpoint.dsn()) as conn:
        assert conn.execute(f"SELECT count(*) FROM {pg_schema}.log").fetchone() == (0,)


def test_every_session_the_connector_opens_is_read_only(pg_endpoint, pg_schema):
    """Not only the snapshot that reads rows: the probes of validation too."""

    async def setting() -> str:
        source = source_for(pg_endpoint, pg_schema, "SELECT 1 AS id")
        conn = await source._connect()
        async with conn:
            cur = await conn.execute("SHOW transaction_read_only")
            row = await cur.fetchone()
        assert row is not None
        return str(row[0])

    assert asyncio.run(setting()) == "on"
