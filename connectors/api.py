"""The runtime's public API: what the CLI does, callable from Python (tests, harnesses,
other programs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.basic_rules import parse_basic_rules
from connectors.config import ConfigError
from connectors.es import lease
from connectors.es.rest import ConflictError, EsClient, NotFoundError
from connectors.es.state import (
    CONNECTORS_INDEX,
    RUNNABLE,
    ConnectorDoc,
    ConnectorStatus,
    ConnectorStore,
    JobFields,
    JobStatus,
    JobStore,
    JobType,
    TriggerMethod,
    ensure_state_indices,
    new_job_id,
    now,
)
from connectors.jobs import run_job
from connectors.liveness import end_replaced, reclaim_lost_jobs
from connectors.registry import load_source
from connectors.schedule import schedule_problems
from connectors.spec_checks import spec_problems
from connectors.sync import SyncOptions, SyncResult


class ConnectorSpecError(ConfigError):
    """The spec itself is wrong (its keys, id, index name or schedule): a configuration
    error, refused before anything is written."""

    def __init__(self, problems: list[str] | str) -> None:
        super().__init__([problems] if isinstance(problems, str) else problems)


SAVE_ATTEMPTS = 5
# What the runtime owns in a connector document: an update of its spec keeps them.
KEPT_ON_UPDATE = (
    "sync_cursor",
    "last_sync_status",
    "last_synced",
    "last_sync_error",
    "created_at",
    "sync_lease",
)


@dataclass
class JobOutcome:
    job_id: str
    status: JobStatus
    result: SyncResult | None
    error: str | None


def connector_document(spec: dict[str, Any]) -> dict[str, Any]:
    """Validate a connector spec (as in a YAML file) and shape it like Elastic's connector
    documents. Raises ConfigError (listing every problem) or ConnectorSpecError."""
    problems = spec_problems(spec) + schedule_problems(spec.get("scheduling"))
    if problems:
        raise ConnectorSpecError(problems)
    schema = load_source(spec["service_type"]).config_schema()
    config = schema.parse(spec.get("configuration") or {})
    basic_rules = list(spec.get("basic_rules") or [])
    parse_basic_rules(basic_rules)  # every problem named before anything is saved
    described = schema.describe()
    configuration = {name: described[name] | {"value": config[name]} for name in described}
    return {
        "id": spec["id"],
        "name": spec.get("name", spec["id"]),
        "service_type": spec["service_type"],
        "index_name": spec["index_name"],
        "configuration": configuration,
        "scheduling": spec.get("scheduling", {}),
        "basic_rules": basic_rules,
        "status": ConnectorStatus.CONFIGURED,
        "last_sync_status": None,
        "last_synced": None,
        "last_sync_error": None,
        "last_seen": None,
        "sync_cursor": None,
        "created_at": now(),
        "is_native": False,
        "language": spec.get("language"),
    }


async def save_connector(client: EsClient, spec: dict[str, Any]) -> ConnectorDoc:
    """Create or update a connector, keeping its sync cursor, history and lease on update.
    Written with optimistic concurrency: a sync taking its lease meanwhile is not undone."""
    doc = connector_document(spec)
    await ensure_state_indices(client)
    for _ in range(SAVE_ATTEMPTS):
        try:
            hit = await client.get(index=CONNECTORS_INDEX, id=doc["id"])
        except NotFoundError:
            hit = None
        if hit is not None:
            for kept in KEPT_ON_UPDATE:
                doc[kept] = hit["_source"].get(kept)
        try:
            if hit is None:
                await client.create(
                    index=CONNECTORS_INDEX, id=doc["id"], document=doc, refresh=True
                )
            else:
                await client.index(
                    index=CONNECTORS_INDEX,
                    id=doc["id"],
                    document=doc,
                    if_seq_no=hit["_seq_no"],
                    if_primary_term=hit["_primary_term"],
                    refresh=True,
                )
        except ConflictError:
            continue
        return ConnectorDoc.from_source(doc)
    raise ConflictError(409, f"connector {doc['id']!r} kept changing while it was saved")


async def sync_connector(
    client: EsClient,
    connector_id: str,
    job_type: JobType = JobType.FULL,
    options: SyncOptions | None = None,
) -> JobOutcome:
    """Run an on-demand job here, to its end state. It takes the connector's lease first,
    so it never runs beside another sync of the connector, and its job is created already
    in progress, so nothing is left pending for a service if this process dies."""
    try:
        options = options or SyncOptions()
        grant = await start_on_demand_job(client, connector_id, JobType(job_type), options.leases)
    except lease.LeaseHeld as exc:
        return JobOutcome(new_job_id(), JobStatus.ERROR, None, str(exc))
    status, result, error = await run_job(client, grant, options)
    return JobOutcome(grant.job_id, status, result, error)


async def start_on_demand_job(
    client: EsClient,
    connector_id: str,
    job_type: JobType,
    timing: lease.Timing = lease.DEFAULT_TIMING,
) -> lease.Grant:
    """The connector's lease, then its job created already in progress under it; a dead
    lease taken over has its job ended first. Raises LeaseHeld while another job runs."""
    await ensure_state_indices(client)
    connector = await ConnectorStore(client).get(connector_id)
    job_id = new_job_id()
    grant = await lease.acquire(client, connector_id, job_id, timing.lease_seconds)
    await end_replaced(client, grant, timing.lease_seconds)
    # When no service runs, one-shot syncs sweep: their own connector's jobs only.
    await reclaim_lost_jobs(client, connector_id, lease_seconds=timing.lease_seconds)
    try:
        await JobStore(client).create(
            connector, job_type, TriggerMethod.ON_DEMAND, job_id=job_id, claimed=True
        )
    except BaseException:
        await lease.release(client, connector_id, grant.token)
        raise
    return grant


class CancelRefused(ValueError):
    """The job cannot be canceled (it has ended, or does not exist)."""


async def cancel_job(client: EsClient, job_id: str) -> JobStatus:
    """Cancel a job: a pending or suspended one ends at once (``canceled``), a running one
    is asked to stop (``canceling``; its worker ends it at its next batch, or the sweep
    does if the worker is gone). A job that has ended is refused, and nothing changes.
    Returns the status written."""
    jobs = JobStore(client)
    for _ in range(SAVE_ATTEMPTS):
        job = await jobs.get(job_id)
        status = job.status
        if status.is_terminal:
            when = job.completed_at or job.canceled_at or "?"
            raise CancelRefused(
                f"job {job_id} has already ended ({status} at {when}); there is nothing to cancel"
            )
        if status == JobStatus.CANCELING:
            return status
        fields: JobFields
        if status in RUNNABLE:
            target = JobStatus.CANCELED
            fields = {"status": target, "canceled_at": now(), "completed_at": now(),
                      "error": "canceled on request before it ran"}  # fmt: skip
        else:
            target, fields = JobStatus.CANCELING, {"status": JobStatus.CANCELING}
        if await jobs.update_if(job_id, fields, (status,)) is None:
            return target
    raise CancelRefused(f"job {job_id} kept changing while it was canceled; try again")
