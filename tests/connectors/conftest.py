import asyncio

import psycopg
import pytest

from connectors.es.client import EsSettings, es_client


@pytest.fixture
def index(es_endpoint, run_namespace, request):
    """A fresh index name for the test, dropped afterwards."""
    name = run_namespace.es_name(request.node.name)
    yield name

    async def drop():
        client = es_client(EsSettings(es_endpoint.url))
        await client.request("DELETE", f"/{name}", params={"ignore_unavailable": "true"})
        await client.close()

    asyncio.run(drop())


@pytest.fixture
def pg_schema(pg_endpoint, run_namespace, request):
    """A fresh PostgreSQL schema for the test, dropped afterwards."""
    schema = run_namespace.pg_name(request.node.name)[:50]
    with psycopg.connect(pg_endpoint.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield schema
    with psycopg.connect(pg_endpoint.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
