"""The smallest proof that services are real and writable: write one thing, read it back,
remove it. Everything created lives in the run's namespace."""

from __future__ import annotations

from typing import Any

import psycopg

from harness.namespace import RunNamespace
from harness.services.es_http import ElasticsearchEndpoint, es_request
from harness.services.postgres import PostgresEndpoint

SAMPLE_TITLE = "Zoë 🚀 שלום"


def round_trip_row(endpoint: PostgresEndpoint, namespace: RunNamespace) -> tuple[int, str]:
    schema = namespace.pg_name("smoke")
    with psycopg.connect(endpoint.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        try:
            conn.execute(f"CREATE TABLE {schema}.items (id int PRIMARY KEY, title text NOT NULL)")
            conn.execute(f"INSERT INTO {schema}.items VALUES (%s, %s)", (1, SAMPLE_TITLE))
            row = conn.execute(f"SELECT id, title FROM {schema}.items").fetchone()
        finally:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    assert row is not None
    return row[0], row[1]


def round_trip_document(endpoint: ElasticsearchEndpoint, namespace: RunNamespace) -> dict[str, Any]:
    index = namespace.es_name("smoke")
    es_request(endpoint, "PUT", f"/{index}", {"settings": {"number_of_replicas": 0}})
    try:
        es_request(
            endpoint, "PUT", f"/{index}/_doc/1?refresh=true", {"id": 1, "title": SAMPLE_TITLE}
        )
        found = es_request(endpoint, "GET", f"/{index}/_doc/1")
    finally:
        es_request(endpoint, "DELETE", f"/{index}")
    return dict(found["_source"])
