"""Services the user already runs. The harness only attaches: it never stops them, and
it never deletes anything there that it did not create (everything it creates carries a
run prefix)."""

from __future__ import annotations

from dataclasses import replace

import psycopg
from psycopg.conninfo import conninfo_to_dict

from harness.services.base import ElasticsearchEndpoint, PostgresEndpoint, Secret, ServiceError
from harness.services.es_http import server_version
from harness.services.postgres import check_postgres
from harness.services.wait import NotReady


class ExternalService:
    backend = "external"

    def __init__(self, name: str, endpoint: ElasticsearchEndpoint | PostgresEndpoint) -> None:
        self.name = name
        self.endpoint = endpoint

    def stop(self) -> None:
        """Not ours to stop."""

    def log_tail(self, lines: int = 40) -> str:
        return "(external service: its log is not available to the harness)"

    def pids(self) -> list[int]:
        return []


def attach_elasticsearch(
    url: str, username: str | None, password: Secret | None
) -> ExternalService:
    probe = ElasticsearchEndpoint(
        url=url, version="?", backend="external", username=username, password=password
    )
    try:
        version = server_version(probe)
    except OSError as exc:
        raise ServiceError(
            f"external Elasticsearch at {probe.redacted_url()} is unreachable: {exc}"
        ) from None
    endpoint = ElasticsearchEndpoint(
        url=url, version=version, backend="external", username=username, password=password
    )
    return ExternalService("elasticsearch", endpoint)


def parse_pg_dsn(dsn: Secret) -> PostgresEndpoint:
    try:
        parts = conninfo_to_dict(dsn.reveal())
    except Exception:
        raise ServiceError(
            "the PostgreSQL DSN given (--pg-dsn / HARNESS_PG_DSN) cannot be parsed"
        ) from None
    return PostgresEndpoint(
        host=str(parts.get("host", "127.0.0.1")),
        port=int(parts.get("port", 5432)),
        user=str(parts.get("user", "postgres")),
        password=Secret(str(parts.get("password", ""))),
        dbname=str(parts.get("dbname", "postgres")),
        version="?",
        backend="external",
    )


def attach_postgres(dsn: Secret) -> ExternalService:
    endpoint = parse_pg_dsn(dsn)
    try:
        check_postgres(endpoint)
    except NotReady as exc:
        raise ServiceError(
            f"external PostgreSQL at {endpoint.redacted_dsn()} is unreachable: {exc}"
        ) from None
    with psycopg.connect(endpoint.dsn(), connect_timeout=5) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0].split()[0]  # type: ignore[index]
    return ExternalService("postgresql", replace(endpoint, version=version))
