"""Isolated, real Elasticsearch and PostgreSQL for tests, behind three backends.

``local`` runs the services as local processes (no Docker needed), ``docker`` uses
testcontainers, ``external`` attaches to services the user already runs.
"""

from harness.services.base import (
    ElasticsearchEndpoint,
    PostgresEndpoint,
    Secret,
    ServiceError,
    ServiceStartError,
)

__all__ = [
    "ElasticsearchEndpoint",
    "PostgresEndpoint",
    "Secret",
    "ServiceError",
    "ServiceStartError",
]
