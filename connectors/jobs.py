"""Running one sync job: pending -> in_progress -> completed | error | canceled
(or suspended, when the service is stopped mid-job: the next service run resumes it)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from elasticsearch import AsyncElasticsearch

from connectors.config import ConfigError
from connectors.es.state import (
    CANCELED,
    CANCELING,
    COMPLETED,
    ERROR,
    SUSPENDED,
    ConnectorStore,
    JobStore,
    now,
)
from connectors.registry import UnknownSourceError, load_source
from connectors.source import SourceError
from connectors.sync import SyncCanceled, SyncOptions, SyncResult, full_sync, incremental_sync

CHECK_INTERVAL = 1.0  # seconds between cancelation checks / heartbeats during a sync


class Suspended(SyncCanceled):
    """The worker is shutting down; the job can resume later."""


def configuration_values(connector: dict[str, Any]) -> dict[str, Any]:
    """Connector documents keep Elastic's shape: {field: {"value": ..., ...}}."""
    return {
        k: (v.get("value") if isinstance(v, dict) else v)
        for k, v in connector.get("configuration", {}).items()
    }


async def run_job(
    client: AsyncElasticsearch,
    job_id: str,
    options: SyncOptions | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> tuple[str, SyncResult | None, str | None]:
    """Run a claimed job to its end state; returns (status, result, error)."""
    jobs, connectors = JobStore(client), ConnectorStore(client)
    job = await jobs.get(job_id)
    connector = await connectors.get(job["connector"]["id"])
    options = options or SyncOptions()

    last_check = 0.0

    async def checkpoint() -> None:
        """Between batches: stop promptly on shutdown; at most once per CHECK_INTERVAL ask
        Elasticsearch whether the job was canceled, and heartbeat."""
        nonlocal last_check
        if stopping():
            raise Suspended("the service is stopping")
        if time.monotonic() - last_check < CHECK_INTERVAL:
            return
        last_check = time.monotonic()
        current = await jobs.get(job_id)
        if current["status"] == CANCELING:
            raise SyncCanceled("canceled on request")
        await jobs.update(job_id, {"last_seen": now()}, refresh=False)

    options.checkpoint = checkpoint
    result: SyncResult | None = None
    try:
        source_class = load_source(connector["service_type"])
        source = source_class(configuration_values(connector))
        try:
            await source.ping()
            await source.validate_config()
            index = connector["index_name"]
            if job["job_type"] == "incremental":
                result = await incremental_sync(
                    source, client, index, connector.get("sync_cursor"), options
                )
            else:
                result = await full_sync(source, client, index, options)
        finally:
            await source.close()
    except Suspended as exc:
        await jobs.update(job_id, {"status": SUSPENDED, "error": str(exc), "last_seen": now()})
        return SUSPENDED, None, str(exc)
    except SyncCanceled as exc:
        await jobs.update(job_id, {"status": CANCELED, "canceled_at": now(), "error": str(exc)})
        return CANCELED, None, str(exc)
    except (ConfigError, SourceError, UnknownSourceError) as exc:
        return await _fail(jobs, connectors, job_id, connector["id"], str(exc), None)
    except Exception as exc:  # anything else: reported on the job, never swallowed silently
        return await _fail(
            jobs, connectors, job_id, connector["id"], f"{type(exc).__name__}: {exc}", result
        )

    counts = await _counts(client, connector["index_name"], result)
    if not result.ok:
        reason = result.error or f"{result.failed} documents failed: " + "; ".join(
            f"{f.doc_id}: {f.error_type} {f.reason}" for f in result.failures[:3]
        )
        await jobs.update(
            job_id, counts | {"status": ERROR, "error": reason, "completed_at": now()}
        )
        await connectors.update(
            connector["id"],
            {"last_sync_status": ERROR, "last_sync_error": reason, "last_synced": now()},
        )
        return ERROR, result, reason
    await jobs.update(job_id, counts | {"status": COMPLETED, "completed_at": now(), "error": None})
    fields: dict[str, Any] = {
        "last_sync_status": COMPLETED,
        "last_sync_error": None,
        "last_synced": now(),
        "status": "connected",
    }
    if result.job_type == "incremental":
        fields["sync_cursor"] = result.cursor  # only now that the sync succeeded
    await connectors.update(connector["id"], fields)
    return COMPLETED, result, None


async def _counts(client: AsyncElasticsearch, index: str, result: SyncResult) -> dict[str, Any]:
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


async def _fail(
    jobs: JobStore,
    connectors: ConnectorStore,
    job_id: str,
    connector_id: str,
    reason: str,
    result: SyncResult | None,
) -> tuple[str, SyncResult | None, str]:
    await jobs.update(job_id, {"status": ERROR, "error": reason, "completed_at": now()})
    await connectors.update(
        connector_id, {"last_sync_status": ERROR, "last_sync_error": reason, "last_synced": now()}
    )
    return ERROR, result, reason
