"""Where a connector framework keeps its state, as Elastic's connector protocol names it:
the one place the harness spells these indices, for every check that reads a connector
document or a job record (ours or Elastic's framework writes them the same way)."""

from __future__ import annotations

CONNECTORS = ".elastic-connectors"
JOBS = ".elastic-connectors-sync-jobs"


def connector_doc(connector_id: str) -> str:
    """The path of a connector document."""
    return f"/{CONNECTORS}/_doc/{connector_id}"


def connector_update(connector_id: str) -> str:
    return f"/{CONNECTORS}/_update/{connector_id}?refresh=true"


def job_doc(job_id: str) -> str:
    return f"/{JOBS}/_doc/{job_id}"
