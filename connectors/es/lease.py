"""One sync per connector at a time: a lease on the connector document.

Every grant carries a token of its own, and renewing or releasing a lease is allowed only
to the holder of that token. The job id alone is not enough: two workers that both saw
the same pending job would each take the other's lease for their own, and the loser's
clean-up would then free the winner's lease (two services lost each other's jobs that
way). Every write is conditional on the document's seq_no/primary_term, so a write that
lost a race changes nothing and is re-read and re-judged. A lease not renewed before it
expires is dead; so is one whose job has ended (its worker died between the two writes).
"""

from __future__ import annotations

import secrets
import socket
from dataclasses import dataclass, replace
from typing import Any

from connectors import clock, defaults
from connectors.es.records import CONNECTORS_INDEX, JOBS_INDEX, LEASE_FIELD, JobStatus, Lease
from connectors.es.rest import ConflictError, EsClient, NotFoundError

FIELD = LEASE_FIELD
ATTEMPTS = 8  # conflicting writers are other workers taking or renewing the same lease


@dataclass(frozen=True)
class Timing:
    """How often a running job renews its lease, and how long a lease lives unrenewed (a
    job not heard of for that long is lost)."""

    heartbeat_seconds: float = defaults.HEARTBEAT_SECONDS
    lease_seconds: float = defaults.LEASE_SECONDS


DEFAULT_TIMING = Timing()


class LeaseHeld(RuntimeError):
    """Another claim holds the connector's lease and is alive."""


class LeaseLost(RuntimeError):
    """This claim's lease expired and was taken over, or was never written."""


@dataclass(frozen=True)
class Grant:
    """A lease taken: the job it is for, the token that proves it, and the dead lease it
    replaced, if any (that lease's job is lost and must be ended by the taker)."""

    connector_id: str
    job_id: str
    token: str
    replaced: Lease | None = None


def current_lease(hit: Any) -> Lease | None:
    """The lease in a connector document as read (None: nobody holds it)."""
    return Lease.from_source(hit["_source"].get(FIELD))


async def acquire(client: EsClient, connector_id: str, job_id: str, ttl: float) -> Grant:
    """Take the lease for ``job_id`` under a new token, or raise LeaseHeld naming the
    job whose live lease it is (whatever that job's id: the same job run by another
    worker is held just the same)."""
    token = secrets.token_hex(8)
    replaced: Lease | None = None
    for _ in range(ATTEMPTS):
        hit = await client.get(index=CONNECTORS_INDEX, id=connector_id)
        current = current_lease(hit)
        if current is not None and current.token == token:
            # Our write landed but its answer was lost: the request timed out, and its
            # retry conflicted with the write itself. The lease is ours.
            return Grant(connector_id, job_id, token, replaced)
        if current and current.is_live and not await _job_ended(client, current.job_id):
            raise LeaseHeld(
                f"connector {connector_id!r} is being synced by job {current.job_id} on "
                f"{current.worker} (since {current.acquired_at}); one sync per connector "
                "runs at a time: wait for it, or cancel it with `connectors cancel`"
            )
        replaced = current
        try:
            await _write(client, hit, _lease(job_id, token, ttl))
        except ConflictError:
            continue
        return Grant(connector_id, job_id, token, current)
    raise LeaseHeld(f"connector {connector_id!r}: its lease is contended by other workers")


async def renew(client: EsClient, grant: Grant, ttl: float) -> None:
    """Push the expiry on, or raise LeaseLost if the lease is no longer this grant's."""
    for _ in range(ATTEMPTS):
        hit = await client.get(index=CONNECTORS_INDEX, id=grant.connector_id)
        current = current_lease(hit)
        if current is None or current.token != grant.token:
            holder = current.job_id if current else "nobody"
            raise LeaseLost(
                f"job {grant.job_id} lost its lease on {grant.connector_id!r} (now: {holder})"
            )
        try:
            await _write(client, hit, replace(current, expires_at=clock.seconds() + ttl))
        except ConflictError:
            continue
        return
    raise LeaseLost(f"job {grant.job_id} could not renew its lease on {grant.connector_id!r}")


async def holds(client: EsClient, grant: Grant) -> bool:
    """Whether the connector's lease is still this grant's (expired or not: an expired
    lease that nobody took over is still its holder's to end its job under)."""
    try:
        hit = await client.get(index=CONNECTORS_INDEX, id=grant.connector_id)
    except NotFoundError:
        return False
    current = current_lease(hit)
    return current is not None and current.token == grant.token


async def release(client: EsClient, connector_id: str, token: str) -> None:
    """Give the lease up if the holder of ``token`` still has it; anyone else's stays."""
    for _ in range(ATTEMPTS):
        try:
            hit = await client.get(index=CONNECTORS_INDEX, id=connector_id)
        except NotFoundError:
            return
        current = current_lease(hit)
        if current is None or current.token != token:
            return
        try:
            await _write(client, hit, None)
        except ConflictError:
            continue
        return


async def _job_ended(client: EsClient, job_id: str) -> bool:
    """A lease whose job has ended is dead even before it expires: its worker ended the
    job and died before freeing it. A job not yet written is not ended (a one-shot sync
    takes its lease before it creates its job)."""
    try:
        hit = await client.get(index=JOBS_INDEX, id=job_id)
    except NotFoundError:
        return False
    return JobStatus(hit["_source"]["status"]).is_terminal


def _lease(job_id: str, token: str, ttl: float) -> Lease:
    return Lease(job_id, token, socket.gethostname(), clock.iso(), clock.seconds() + ttl)


async def _write(client: EsClient, hit: Any, lease: Lease | None) -> None:
    await client.update(
        index=CONNECTORS_INDEX,
        id=hit["_id"],
        if_seq_no=hit["_seq_no"],
        if_primary_term=hit["_primary_term"],
        doc={FIELD: lease.to_source() if lease else None},
        refresh=True,
    )
