"""Smoke: the session's real PostgreSQL and Elasticsearch accept a write and read it back."""

from harness.namespace import RunNamespace
from harness.services.es_http import ElasticsearchEndpoint
from harness.services.postgres import PostgresEndpoint
from harness.smoke import round_trip_document, round_trip_row


def test_postgres_round_trips_a_row(
    pg_endpoint: PostgresEndpoint, run_namespace: RunNamespace
) -> None:
    assert round_trip_row(pg_endpoint, run_namespace) == (1, "Zoë 🚀 שלום")


def test_elasticsearch_round_trips_a_document(
    es_endpoint: ElasticsearchEndpoint, run_namespace: RunNamespace
) -> None:
    assert round_trip_document(es_endpoint, run_namespace) == {"id": 1, "title": "Zoë 🚀 שלום"}
