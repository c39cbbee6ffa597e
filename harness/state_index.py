"""Where a connector framework keeps its state, as Elastic's connector protocol names it.
The names are the runtime's own (``connectors/es/records.py``); this module is where the
harness takes them from, for every check that reads a connector document or a job record
(ours and Elastic's framework write them the same way)."""

from __future__ import annotations

from connectors.es.records import CONNECTORS_INDEX as CONNECTORS
from connectors.es.records import JOBS_INDEX as JOBS

__all__ = ["CONNECTORS", "JOBS", "connector_doc", "connector_update", "job_doc"]


def connector_doc(connector_id: str) -> str:
    """The path of a connector document."""
    return f"/{CONNECTORS}/_doc/{connector_id}"


def connector_update(connector_id: str) -> str:
    return f"/{CONNECTORS}/_update/{connector_id}?refresh=true"


def job_doc(job_id: str) -> str:
    return f"/{JOBS}/_doc/{job_id}"
