"""The runtime's public API: what the CLI does, callable from Python (tests, harnesses,
other programs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from elasticsearch import AsyncElasticsearch

from connectors.es.state import (
    ConnectorStore,
    JobStatus,
    JobStore,
    JobType,
    TriggerMethod,
    ensure_state_indices,
    now,
)
from connectors.jobs import run_job
from connectors.registry import load_source
from connectors.sync import SyncOptions, SyncResult


class ConnectorSpecError(ValueError):
    pass


@dataclass
class JobOutcome:
    job_id: str
    status: JobStatus
    result: SyncResult | None
    error: str | None


def connector_document(spec: dict[str, Any]) -> dict[str, Any]:
    """Validate a connector spec (as in a YAML file) and shape it like Elastic's connector
    documents. Raises ConfigError (listing every problem) or ConnectorSpecError."""
    for key in ("id", "service_type", "index_name"):
        if not spec.get(key):
            raise ConnectorSpecError(f"connector spec is missing {key!r}")
    schema = load_source(spec["service_type"]).config_schema()
    config = schema.parse(spec.get("configuration") or {})
    described = schema.describe()
    configuration = {name: described[name] | {"value": config[name]} for name in described}
    return {
        "id": spec["id"],
        "name": spec.get("name", spec["id"]),
        "service_type": spec["service_type"],
        "index_name": spec["index_name"],
        "configuration": configuration,
        "scheduling": spec.get("scheduling", {}),
        "status": "configured",
        "last_sync_status": None,
        "last_synced": None,
        "last_sync_error": None,
        "last_seen": None,
        "sync_cursor": None,
        "created_at": now(),
        "is_native": False,
        "language": spec.get("language"),
    }


async def save_connector(client: AsyncElasticsearch, spec: dict[str, Any]) -> dict[str, Any]:
    """Create or update a connector, keeping its sync cursor and history on update."""
    doc = connector_document(spec)
    await ensure_state_indices(client)
    store = ConnectorStore(client)
    try:
        existing = await store.get(doc["id"])
    except LookupError:
        existing = None
    if existing is not None:
        for kept in (
            "sync_cursor",
            "last_sync_status",
            "last_synced",
            "last_sync_error",
            "created_at",
        ):
            doc[kept] = existing.get(kept)
    await store.save(doc)
    return doc


async def sync_connector(
    client: AsyncElasticsearch,
    connector_id: str,
    job_type: JobType = JobType.FULL,
    options: SyncOptions | None = None,
) -> JobOutcome:
    """Queue an on-demand job, claim it and run it here, to its end state."""
    await ensure_state_indices(client)
    connector = await ConnectorStore(client).get(connector_id)
    jobs = JobStore(client)
    job_id = await jobs.create(connector, JobType(job_type), TriggerMethod.ON_DEMAND)
    if not await jobs.claim(job_id):
        reason = f"job {job_id} was taken by another worker"
        return JobOutcome(job_id, JobStatus.ERROR, None, reason)
    status, result, error = await run_job(client, job_id, options)
    return JobOutcome(job_id, status, result, error)
