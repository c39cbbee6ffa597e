"""Run namespaces: every index, schema or database the harness creates carries the run's
prefix, so parallel runs (and xdist workers) never collide, and on an external cluster the
harness deletes only what it created."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class RunNamespace:
    run_id: str

    @classmethod
    def new(cls, worker: str | None = None) -> RunNamespace:
        worker = worker or os.environ.get("PYTEST_XDIST_WORKER", "")
        suffix = f"{worker}" if worker else ""
        return cls(f"h{secrets.token_hex(3)}{suffix}")

    @property
    def es_prefix(self) -> str:
        return f"harness-{self.run_id}-"

    @property
    def pg_prefix(self) -> str:
        return f"harness_{self.run_id}_"

    def es_name(self, name: str) -> str:
        """An index name: lowercase, no characters Elasticsearch rejects."""
        return self.es_prefix + re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")

    def pg_name(self, name: str) -> str:
        """A schema/table/database name safe to use unquoted."""
        return (self.pg_prefix + re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_"))[:63]
