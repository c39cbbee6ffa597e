"""Jobs that cannot be orphaned: a job runs only under its connector's lease, a heartbeat
renews the lease while it runs, and a job whose heartbeat stopped is given up for lost --
by a service noticing it, or by the next sync of the same connector taking the lease."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from connectors import defaults
from connectors.es import lease
from connectors.es.rest import ConflictError, EsClient, NotFoundError
from connectors.es.state import JOBS_INDEX, ConnectorStore, JobStatus, JobStore, now

log = logging.getLogger("connectors.liveness")
LIVE = (JobStatus.IN_PROGRESS, JobStatus.CANCELING)


async def claim_job(client: EsClient, job_id: str) -> bool:
    """Take a pending job: its connector's lease first, then the job itself. False when
    another job of the connector runs, or another worker claimed this one."""
    jobs = JobStore(client)
    job = await jobs.get(job_id)
    connector_id = job["connector"]["id"]
    try:
        expired = await lease.acquire(client, connector_id, job_id, defaults.LEASE_SECONDS)
    except lease.LeaseHeld as exc:
        log.info("job %s waits: %s", job_id, exc)
        return False
    if expired:
        await give_up_for_lost(client, expired["job_id"], expired.get("worker", "?"))
    if not await jobs.claim(job_id):
        await lease.release(client, connector_id, job_id)
        return False
    return True


async def give_up_for_lost(client: EsClient, job_id: str, worker: str) -> None:
    """End a job whose worker stopped renewing its lease (killed, or cut off)."""
    try:
        hit = await client.get(index=JOBS_INDEX, id=job_id)
    except NotFoundError:
        return
    job = hit["_source"]
    if job["status"] not in LIVE:
        return
    reason = (
        f"worker lost: job {job_id} on {worker} was last heard of at {job.get('last_seen')}; "
        f"no heartbeat for {defaults.LEASE_SECONDS:.0f}s"
    )
    try:  # only if nobody (its worker, another reclaimer) wrote to it meanwhile
        await client.update(
            index=JOBS_INDEX,
            id=job_id,
            if_seq_no=hit["_seq_no"],
            if_primary_term=hit["_primary_term"],
            doc={"status": JobStatus.ERROR, "error": reason, "completed_at": now()},
            refresh=True,
        )
    except ConflictError:
        return
    log.warning("%s", reason)
    connector_id = job["connector"]["id"]
    with contextlib.suppress(NotFoundError):  # the connector may be gone with its job left
        await ConnectorStore(client).update(
            connector_id,
            {"last_sync_status": JobStatus.ERROR, "last_sync_error": reason, "last_synced": now()},
        )
        await lease.release(client, connector_id, job_id)


async def reclaim_lost_jobs(client: EsClient) -> list[str]:
    """Give up every live job not heard of for a lease's length (a service does this on
    each tick, so a killed one-shot sync does not stay in_progress forever)."""
    if not await client.indices.exists(index=JOBS_INDEX):
        return []
    found = await client.search(
        index=JOBS_INDEX,
        size=100,
        query={
            "bool": {
                "filter": [
                    {"terms": {"status": list(LIVE)}},
                    {"range": {"last_seen": {"lt": f"now-{int(defaults.LEASE_SECONDS)}s"}}},
                ]
            }
        },
    )
    lost = []
    for hit in found["hits"]["hits"]:
        try:
            await give_up_for_lost(client, hit["_id"], hit["_source"].get("worker_hostname", "?"))
        except Exception as exc:  # best effort: the next reclaimer tries again
            log.warning("could not give up lost job %s: %s", hit["_id"], exc)
            continue
        lost.append(hit["_id"])
    return lost


@contextlib.asynccontextmanager
async def heartbeat(
    client: EsClient, job_id: str, connector_id: str
) -> AsyncIterator[asyncio.Event]:
    """Renew the lease and the job's last_seen in the background while the block runs.
    The event is set if the lease was lost: the job must stop without writing its end."""
    lost = asyncio.Event()

    async def beat() -> None:
        while True:
            await asyncio.sleep(defaults.HEARTBEAT_SECONDS)  # a period, not a wait for state
            try:
                await lease.renew(client, connector_id, job_id, defaults.LEASE_SECONDS)
                await JobStore(client).update(job_id, {"last_seen": now()}, refresh=False)
            except lease.LeaseLost as exc:
                log.error("%s", exc)
                lost.set()
                return
            except Exception as exc:  # Elasticsearch away: the next beat tries again
                log.warning("heartbeat of job %s failed: %s", job_id, exc)

    task = asyncio.create_task(beat())
    try:
        yield lost
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
