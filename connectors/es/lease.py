"""One sync per connector at a time: a lease on the connector document, taken with
optimistic concurrency (seq_no / primary_term), renewed by the running job's heartbeat, and
given up when the job ends. A lease not renewed in time has expired: its holder is lost."""

from __future__ import annotations

import socket
import time
from typing import Any

from connectors.es.rest import ConflictError, EsClient
from connectors.es.state import CONNECTORS_INDEX, now

FIELD = "sync_lease"
ATTEMPTS = 5  # conflicting writers are other workers taking or renewing the same lease


class LeaseHeld(RuntimeError):
    """Another job holds the connector's lease and is alive."""


class LeaseLost(RuntimeError):
    """This job's lease expired and was taken over (the job was given up for lost)."""


async def acquire(
    client: EsClient, connector_id: str, job_id: str, ttl: float
) -> dict[str, Any] | None:
    """Take the lease for ``job_id``; return the expired lease it replaced, if any (its
    job is lost), or raise LeaseHeld naming the job that has it."""
    for _ in range(ATTEMPTS):
        hit = await client.get(index=CONNECTORS_INDEX, id=connector_id)
        lease = hit["_source"].get(FIELD)
        if lease and lease["job_id"] != job_id and lease["expires_at"] > time.time():
            raise LeaseHeld(
                f"connector {connector_id!r} is being synced by job {lease['job_id']} on "
                f"{lease['worker']} (since {lease['acquired_at']}); one sync per connector "
                "runs at a time: wait for it, or cancel it with `connectors cancel`"
            )
        try:
            await _write(client, hit, _lease(job_id, ttl))
        except ConflictError:
            continue
        return lease if lease and lease["job_id"] != job_id else None
    raise LeaseHeld(f"connector {connector_id!r}: its lease is contended by other workers")


async def renew(client: EsClient, connector_id: str, job_id: str, ttl: float) -> None:
    for _ in range(ATTEMPTS):
        hit = await client.get(index=CONNECTORS_INDEX, id=connector_id)
        lease = hit["_source"].get(FIELD)
        if not lease or lease["job_id"] != job_id:
            holder = lease["job_id"] if lease else "nobody"
            raise LeaseLost(f"job {job_id} lost its lease on {connector_id!r} (now: {holder})")
        try:
            await _write(client, hit, lease | {"expires_at": time.time() + ttl})
        except ConflictError:
            continue
        return
    raise LeaseLost(f"job {job_id} could not renew its lease on {connector_id!r}")


async def release(client: EsClient, connector_id: str, job_id: str) -> None:
    """Give the lease up if this job still holds it."""
    for _ in range(ATTEMPTS):
        hit = await client.get(index=CONNECTORS_INDEX, id=connector_id)
        lease = hit["_source"].get(FIELD)
        if not lease or lease["job_id"] != job_id:
            return
        try:
            await _write(client, hit, None)
        except ConflictError:
            continue
        return


def _lease(job_id: str, ttl: float) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "worker": socket.gethostname(),
        "acquired_at": now(),
        "expires_at": time.time() + ttl,
    }


async def _write(client: EsClient, hit: Any, lease: dict[str, Any] | None) -> None:
    await client.update(
        index=CONNECTORS_INDEX,
        id=hit["_id"],
        if_seq_no=hit["_seq_no"],
        if_primary_term=hit["_primary_term"],
        doc={FIELD: lease},
        refresh=True,
    )
