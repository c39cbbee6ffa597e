import asyncio
import hashlib

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


@pytest.fixture
def database(mysql_endpoint, run_namespace, request):
    """A fresh MySQL database for the test, in this run's namespace, dropped afterwards;
    yields its name and a cursor of the harness's own account using it."""
    unique = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:8]
    name = f"{run_namespace.pg_name(request.node.name)[:54]}_{unique}"
    with mysql_endpoint.connect() as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name}")
        cur.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        cur.execute(f"USE {name}")
        cur.execute("SET SESSION sql_mode = ''")  # zero dates, as permissive servers allow
        cur.execute("SET SESSION time_zone = '-03:30'")
        yield name, cur
        cur.execute(f"DROP DATABASE {name}")
