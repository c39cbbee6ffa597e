"""Jobs that cannot be orphaned or run twice: a job runs only under its connector's lease,
a heartbeat renews the lease while it runs, and a job left without a live lease is ended
-- by a service's sweep, or by the next sync of the same connector taking the lease.

Every write here is conditional (seq_no/primary_term) and re-judged after a conflict, so
several services can list, claim and sweep the same jobs at once: a claim that loses
changes nothing, and a job is ended once, by whoever wins."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from connectors import clock, defaults
from connectors.es import lease
from connectors.es.rest import ConflictError, EsClient, NotFoundError
from connectors.es.state import (
    CONNECTORS_INDEX,
    JOBS_INDEX,
    LIVE,
    ConnectorStore,
    JobDoc,
    JobFields,
    JobStatus,
    JobStore,
    Lease,
    carries_write,
    now,
)

log = logging.getLogger("connectors.liveness")
ATTEMPTS = 8


async def claim_job(
    client: EsClient, job: JobDoc, timing: lease.Timing = lease.DEFAULT_TIMING
) -> lease.Grant | None:
    """Take a job as a listing found it (runnable then; maybe not any more, as another
    worker may have listed it too): its connector's lease first, then the job itself.
    None when another job of the connector (or this one, on another worker) runs, or
    another worker claimed this one; then nothing this call wrote is left behind."""
    job_id, connector_id = job.id, job.connector.id
    try:
        grant = await lease.acquire(client, connector_id, job_id, timing.lease_seconds)
    except lease.LeaseHeld as exc:
        log.info("job %s waits: %s", job_id, exc)
        return None
    await end_replaced(client, grant, timing.lease_seconds)
    if not await JobStore(client).claim(job_id):
        await lease.release(client, connector_id, grant.token)
        return None
    return grant


async def end_replaced(
    client: EsClient, grant: lease.Grant, lease_seconds: float = defaults.LEASE_SECONDS
) -> None:
    """The lease a grant took over was dead: end its job (unless it is this very job,
    resumed after its worker died: then the new run carries it on)."""
    if grant.replaced and grant.replaced.job_id != grant.job_id:
        await give_up_for_lost(client, grant.replaced.job_id, grant.replaced.worker, lease_seconds)


async def give_up_for_lost(
    client: EsClient, job_id: str, worker: str, lease_seconds: float = defaults.LEASE_SECONDS
) -> bool:
    """End a live job that has no live lease (its worker was killed, frozen or cut off):
    ``error`` naming the lost worker, or ``canceled`` if a cancelation was waiting for it.
    True if this call ended it; False if it was ended, or is alive, after all."""
    written: _Ending | None = None  # a write whose answer was lost may have landed
    for _ in range(ATTEMPTS):
        try:
            hit = await client.get(index=JOBS_INDEX, id=job_id)
        except NotFoundError:
            return False
        if written is not None and carries_write(hit["_source"], written.fields):
            return await written.follow(client, job_id)
        job = JobDoc.from_hit(job_id, hit["_source"])
        if job.status not in LIVE:
            return False
        connector_id = job.connector.id
        held = await _lease_of(client, connector_id)
        if held and held.job_id == job_id and held.is_live:
            return False
        if job.status == JobStatus.CANCELING:
            status, reason = JobStatus.CANCELED, "canceled on request; its worker was gone"
        else:
            status = JobStatus.ERROR
            reason = (
                f"worker lost: job {job_id} on {worker} was last heard of at "
                f"{job.last_seen}; no heartbeat for {lease_seconds:.0f}s"
            )
        ended: JobFields = {"status": status, "error": reason, "completed_at": now()}
        if status == JobStatus.CANCELED:
            ended["canceled_at"] = ended["completed_at"]
        ending = _Ending(ended, connector_id, held)
        try:
            await client.update(
                index=JOBS_INDEX,
                id=job_id,
                if_seq_no=hit["_seq_no"],
                if_primary_term=hit["_primary_term"],
                doc=ended,
                refresh=True,
            )
        except ConflictError:  # its worker, a heartbeat, another sweep, or this write: judge
            written = ending
            continue
        return await ending.follow(client, job_id)
    log.warning("job %s kept changing while it was given up for lost; next sweep", job_id)
    return False


@dataclass(frozen=True)
class _Ending:
    """A lost job's end as written, and what follows it once it stands."""

    fields: JobFields
    connector_id: str
    held: Lease | None

    async def follow(self, client: EsClient, job_id: str) -> bool:
        status, reason = self.fields["status"], self.fields["error"]
        log.warning("job %s: %s", job_id, reason)
        with contextlib.suppress(NotFoundError):  # the connector may be gone with its job left
            await ConnectorStore(client).update(
                self.connector_id,
                {"last_sync_status": status, "last_sync_error": reason, "last_synced": now()},
            )
            if self.held and self.held.job_id == job_id:
                await lease.release(client, self.connector_id, self.held.token)
        return True


async def _lease_of(client: EsClient, connector_id: str) -> Lease | None:
    try:
        hit = await client.get(index=CONNECTORS_INDEX, id=connector_id)
    except NotFoundError:
        return None
    return lease.current_lease(hit)


async def reclaim_lost_jobs(
    client: EsClient,
    connector_id: str | None = None,
    lease_seconds: float = defaults.LEASE_SECONDS,
    *,
    connector_ids: frozenset[str] | None = None,
) -> list[str]:
    """End every live job of ``connector_id`` (or of ``connector_ids``; neither: of any
    connector) that has no live lease and was not heard of for a lease's length, or never.
    A service does this on each tick for the connectors it serves, and a one-shot sync for
    its own connector, so a killed sync does not stay in_progress forever.

    The scope matters: ``lease_seconds`` is the sweeper's idea of a lease, and a job run
    elsewhere (another deployment's service with longer leases, another framework with no
    lease of ours, another test run) may be healthy and quiet for longer than that. Only
    the jobs of connectors this sweeper is responsible for are judged by it."""
    if not await client.indices.exists(index=JOBS_INDEX):
        return []
    if connector_ids is not None and not connector_ids:
        return []
    cutoff = clock.iso(clock.seconds() - lease_seconds)
    filters: list[dict[str, Any]] = [{"terms": {"status": list(LIVE)}}]
    if connector_id is not None:
        filters.append({"term": {"connector.id": connector_id}})
    if connector_ids is not None:
        filters.append({"terms": {"connector.id": sorted(connector_ids)}})
    found = await client.search(
        index=JOBS_INDEX,
        size=100,
        query={
            "bool": {
                "filter": filters,
                "should": [
                    {"range": {"last_seen": {"lt": cutoff}}},
                    {"bool": {"must_not": {"exists": {"field": "last_seen"}}}},
                ],
                "minimum_should_match": 1,
            }
        },
    )
    lost = []
    for hit in found["hits"]["hits"]:
        try:
            worker = hit["_source"].get("worker_hostname", "?")
            ended = await give_up_for_lost(client, hit["_id"], worker, lease_seconds)
        except Exception as exc:  # best effort: the next sweep tries again
            log.warning("could not give up lost job %s: %s", hit["_id"], exc)
            continue
        if ended:
            lost.append(hit["_id"])
    return lost


@contextlib.asynccontextmanager
async def heartbeat(
    client: EsClient, grant: lease.Grant, timing: lease.Timing = lease.DEFAULT_TIMING
) -> AsyncIterator[asyncio.Event]:
    """Renew the lease and the job's last_seen in the background while the block runs.
    The event is set if the lease was lost: the job must stop without writing its end."""
    lost = asyncio.Event()

    async def beat() -> None:
        while True:
            await asyncio.sleep(timing.heartbeat_seconds)  # a period, not a wait for state
            try:
                await beat_once(client, grant, timing)
            except lease.LeaseLost as exc:
                log.error("%s", exc)
                lost.set()
                return
            except Exception as exc:  # Elasticsearch away: the next beat tries again
                log.warning("heartbeat of job %s failed: %s", grant.job_id, exc)

    task = asyncio.create_task(beat())
    try:
        yield lost
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def beat_once(
    client: EsClient, grant: lease.Grant, timing: lease.Timing = lease.DEFAULT_TIMING
) -> None:
    """One heartbeat: the lease first (LeaseLost if it is no longer this grant's), then
    the job's last_seen."""
    await lease.renew(client, grant, timing.lease_seconds)
    await JobStore(client).update(grant.job_id, {"last_seen": now()}, refresh=False)
