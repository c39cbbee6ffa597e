"""Running one sync job: pending -> in_progress -> completed | error | canceled
(or suspended, when the service is stopped mid-job: the next service run resumes it)."""

from __future__ import annotations

import time
from collections.abc import Callable

from connectors import defaults
from connectors.access_control import acl_index
from connectors.access_control_sync import AccessControlUnsupported, access_control_sync
from connectors.basic_rules import parse_basic_rules
from connectors.config import ConfigError
from connectors.es import lease
from connectors.es.rest import EsClient
from connectors.es.state import (
    LIVE,
    RUNNABLE,
    ConnectorDoc,
    ConnectorFields,
    ConnectorStatus,
    ConnectorStore,
    JobDoc,
    JobFields,
    JobStatus,
    JobStore,
    JobType,
    now,
)
from connectors.filtered_source import BasicRulesSource
from connectors.liveness import heartbeat
from connectors.registry import UnknownSourceError, load_source
from connectors.source import SourceError
from connectors.sync import SyncCanceled, SyncOptions, SyncResult, full_sync, incremental_sync

CHECK_INTERVAL = defaults.CHECK_INTERVAL_SECONDS


class Suspended(SyncCanceled):
    """The worker is shutting down; the job can resume later."""


class JobLost(SyncCanceled):
    """This worker lost the connector's lease: the job was given up for lost elsewhere."""


async def run_job(
    client: EsClient,
    grant: lease.Grant,
    options: SyncOptions | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> tuple[JobStatus, SyncResult | None, str | None]:
    """Run a job claimed under ``grant`` to its end state; returns (status, result,
    error)."""
    job_id = grant.job_id
    jobs, connectors = JobStore(client), ConnectorStore(client)
    job = await jobs.get(job_id)
    connector = await connectors.get(job.connector.id)
    options = options or SyncOptions()

    last_check = 0.0

    async def checkpoint() -> None:
        """Between batches: stop promptly on shutdown or a lost lease; at most once per
        CHECK_INTERVAL ask Elasticsearch whether the job was canceled."""
        nonlocal last_check
        if stopping():
            raise Suspended("the service is stopping")
        if lost.is_set():
            raise JobLost(f"job {job_id} lost its connector's lease to another worker")
        if time.monotonic() - last_check < CHECK_INTERVAL:
            return
        last_check = time.monotonic()
        current = await jobs.get(job_id)
        if current.status == JobStatus.CANCELING:
            raise SyncCanceled("canceled on request")
        if current.status not in LIVE:
            raise JobLost(f"job {job_id} was ended elsewhere: {current.status}")

    options.checkpoint = checkpoint
    async with heartbeat(client, grant, options.leases) as lost:
        return await _run(client, grant, job, connector, options)


async def _run(
    client: EsClient,
    grant: lease.Grant,
    job: JobDoc,
    connector: ConnectorDoc,
    options: SyncOptions,
) -> tuple[JobStatus, SyncResult | None, str | None]:
    job_id = grant.job_id
    result: SyncResult | None = None

    async def end(
        status: JobStatus, error: str | None, result: SyncResult | None = None
    ) -> tuple[JobStatus, SyncResult | None, str | None]:
        return await end_job(client, job_id, connector, status, error, result, grant)

    try:
        source_class = load_source(connector.service_type)
        source = source_class(connector.configuration_values())
        source.retry_seconds = options.source_retry_seconds
        try:
            await source.ping()
            await source.validate_config()
            index = connector.index_name
            rules = parse_basic_rules(list(connector.basic_rules))
            content = BasicRulesSource(source, rules) if rules else source
            if job.job_type == JobType.ACCESS_CONTROL:  # identities: no rules apply
                result = await access_control_sync(source, client, index, options)
            elif job.job_type == JobType.INCREMENTAL:
                result = await incremental_sync(
                    content, client, index, connector.sync_cursor, options
                )
            else:
                result = await full_sync(content, client, index, options)
        finally:
            await source.close()
    except JobLost as exc:  # its end was written by whoever gave it up
        return JobStatus.ERROR, result, str(exc)
    except Suspended as exc:
        return await end(JobStatus.SUSPENDED, str(exc))
    except SyncCanceled as exc:
        return await end(JobStatus.CANCELED, str(exc))
    except (ConfigError, SourceError, UnknownSourceError, AccessControlUnsupported) as exc:
        return await end(JobStatus.ERROR, str(exc))
    except Exception as exc:  # anything else: reported on the job, never swallowed silently
        return await end(JobStatus.ERROR, f"{type(exc).__name__}: {exc}", result)
    if result.ok:
        return await end(JobStatus.COMPLETED, None, result)
    reason = result.error or f"{result.failed} documents failed: " + "; ".join(
        f"{f.doc_id}: {f.error_type} {f.reason}" for f in result.failures[:3]
    )
    return await end(JobStatus.ERROR, reason, result)


async def end_job(
    client: EsClient,
    job_id: str,
    connector: ConnectorDoc | None,
    status: JobStatus,
    error: str | None,
    result: SyncResult | None = None,
    grant: lease.Grant | None = None,
) -> tuple[JobStatus, SyncResult | None, str | None]:
    """The one way a job ends: the job record and the connector document follow it
    together. A suspended job is not ended (it resumes), so the connector is left as is;
    the cursor moves only with a completed incremental sync. ``connector`` None: it was
    deleted, and only the job record is left to end.

    The end is written only while the job is still this worker's: under ``grant`` it
    must be live and its lease this grant's; without one (a pending job whose connector
    is gone) it must still be runnable. Otherwise someone else ended it (a sweep that
    gave it up for lost, a service ending it): that end stands, and is what is returned."""
    fields: JobFields = {"status": status, "error": error, "last_seen": now()}
    if result is not None and connector is not None:
        index = connector.index_name
        target = acl_index(index) if result.job_type == JobType.ACCESS_CONTROL else index
        fields.update(await _counts(client, target, result))
    if status == JobStatus.CANCELED:
        fields["canceled_at"] = now()
    elif status.is_terminal:
        fields["completed_at"] = now()
    expected = LIVE if grant else RUNNABLE
    if grant is not None and not await lease.holds(client, grant):
        return JobStatus.ERROR, result, _lost(job_id, await JobStore(client).get(job_id))
    taken = await JobStore(client).update_if(job_id, fields, expected)
    if taken is not None:
        return JobStatus.ERROR, result, _lost(job_id, taken)
    if connector is None or grant is None:
        return status, result, error
    await lease.release(client, connector.id, grant.token)  # suspended too: may resume
    if not status.is_terminal:
        return status, result, error
    follows: ConnectorFields = {
        "last_sync_status": status,
        "last_sync_error": error,
        "last_synced": now(),
    }
    if status == JobStatus.COMPLETED:
        follows["status"] = ConnectorStatus.CONNECTED
        if result is not None and result.job_type == JobType.INCREMENTAL:
            follows["sync_cursor"] = result.cursor  # only now that the sync succeeded
    await ConnectorStore(client).update(connector.id, follows)
    return status, result, error


def _lost(job_id: str, job: JobDoc) -> str:
    return (
        f"job {job_id} was taken from this worker: it is {job.status} "
        f"({job.error or 'no reason given'})"
    )


async def _counts(client: EsClient, index: str, result: SyncResult) -> JobFields:
    """What the job record says of a sync that ran (completely or not)."""
    total = (await client.count(index=index))["count"]
    return {
        "indexed_document_count": result.indexed,
        "indexed_document_volume": round(result.bytes_sent / 1024 / 1024),
        "deleted_document_count": result.deleted,
        "total_document_count": total,
        "metadata": {
            "unchanged_document_count": result.unchanged,
            "failed_document_count": result.failed,
            "seen_document_count": result.seen,
            "seconds": round(result.seconds, 3),
            "failures": [f.__dict__ for f in result.failures[:20]],
        },
    }
