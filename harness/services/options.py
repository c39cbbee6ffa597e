"""What the user asked for: backend, versions, external endpoints, reuse."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from harness.services.base import Secret, ServiceError
from harness.services.es_distribution import DEFAULT_ES_VERSION

BACKENDS = ("auto", "local", "docker", "external")


@dataclass
class ServiceOptions:
    backend: str = "auto"
    es_version: str = DEFAULT_ES_VERSION
    es_distribution: str | None = None
    es_url: str | None = None
    es_username: str | None = None
    es_password: Secret | None = field(default=None, repr=False)
    pg_dsn: Secret | None = field(default=None, repr=False)
    pg_bindir: str | None = None
    reuse: bool = False
    es_heap: str = "768m"
    es_startup_timeout: float = 180.0
    pg_startup_timeout: float = 60.0

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ServiceError(
                f"unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}"
            )
        if self.backend == "external" and not (self.es_url and self.pg_dsn):
            raise ServiceError(
                "backend 'external' needs both --es-url (or HARNESS_ES_URL) and --pg-dsn "
                "(or HARNESS_PG_DSN)"
            )

    @classmethod
    def from_env(cls, **overrides: object) -> ServiceOptions:
        """Options from HARNESS_* environment variables; explicit overrides win when not None."""
        env = os.environ
        values: dict[str, object] = {
            "backend": env.get("HARNESS_BACKEND", "auto"),
            "es_version": env.get("HARNESS_ES_VERSION", DEFAULT_ES_VERSION),
            "es_distribution": env.get("HARNESS_ES_DISTRIBUTION"),
            "es_url": env.get("HARNESS_ES_URL"),
            "es_username": env.get("HARNESS_ES_USERNAME"),
            "es_password": Secret(env["HARNESS_ES_PASSWORD"])
            if env.get("HARNESS_ES_PASSWORD")
            else None,
            "pg_dsn": Secret(env["HARNESS_PG_DSN"]) if env.get("HARNESS_PG_DSN") else None,
            "pg_bindir": env.get("HARNESS_PG_BINDIR"),
            "reuse": env.get("HARNESS_REUSE_SERVICES", "") in ("1", "true", "yes"),
        }
        for key, value in overrides.items():
            if value is not None:
                values[key] = (
                    Secret(value)
                    if key in ("es_password", "pg_dsn") and isinstance(value, str)
                    else value
                )
        return cls(**values)  # type: ignore[arg-type]
