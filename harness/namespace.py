"""Run namespaces: every index, schema or database the harness creates carries the run's
prefix, so parallel runs (and xdist workers) never collide, and on an external cluster the
harness deletes only what it created."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.environment import HarnessEnvironment

if TYPE_CHECKING:
    from harness.services.kind import ServiceKind


@dataclass(frozen=True)
class RunNamespace:
    run_id: str

    @classmethod
    def new(cls, worker: str | None = None) -> RunNamespace:
        worker = worker or HarnessEnvironment.current().xdist_worker
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

    def name_for(self, kind: ServiceKind, label: str) -> str:
        """A name in the run's namespace that the service kind accepts: its characters, its
        length limit (a cut name ends with a hash of the whole, so two cut names differ)."""
        sep = kind.name_separator
        name = f"harness{sep}{self.run_id}{sep}" + re.sub(
            rf"[^a-z0-9{re.escape(sep)}]+", sep, label.lower()
        ).strip(sep)
        if len(name) <= kind.name_limit:
            return name
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        return name[: kind.name_limit - len(digest) - 1].rstrip(sep) + sep + digest
