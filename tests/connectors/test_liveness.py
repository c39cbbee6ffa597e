"""No orphaned jobs, one sync per connector: leases, heartbeats and giving lost jobs up,
against the real Elasticsearch with an in-memory source plugged in."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from connectors import clock
from connectors import jobs as jobs_module
from connectors.api import (
    CancelRefused,
    ConnectorSpecError,
    cancel_job,
    connector_document,
    sync_connector,
)
from connectors.es import lease
from connectors.es.client import EsSettings, es_client
from connectors.es.state import (
    CONNECTORS_INDEX,
    JOBS_INDEX,
    ConnectorDoc,
    ConnectorStore,
    JobStatus,
    JobStore,
    JobType,
    TriggerMethod,
    ensure_state_indices,
    new_job_id,
)
from connectors.liveness import beat_once, claim_job, reclaim_lost_jobs
from connectors.service import ConnectorsService
from connectors.sync import SyncOptions
from tests.connectors.fakes import ListSource, docs

pytestmark = pytest.mark.services


class SlowSource(ListSource):
    """Holds its read open until released, so a second sync meets the first one."""

    def __init__(self, started: asyncio.Event, release: asyncio.Event) -> None:
        super().__init__(docs(3))
        self.started, self.release = started, release

    async def get_docs(self):  # type: ignore[override]
        self.started.set()
        await self.release.wait()
        async for doc in super().get_docs():
            yield doc


def with_client(es_endpoint, body):
    async def go():
        client = es_client(EsSettings(es_endpoint.url))
        try:
            await ensure_state_indices(client)
            return await body(client)
        finally:
            await client.close()

    return asyncio.run(go())


async def saved_connector(client, connector_id: str, **extra: Any) -> ConnectorDoc:
    connector = {
        "id": connector_id,
        "service_type": "list",
        "index_name": connector_id,
        "configuration": {},
        **extra,
    }
    await ConnectorStore(client).save(connector)
    return ConnectorDoc.from_source(connector)


def test_a_second_sync_of_a_connector_is_refused_while_the_first_runs(
    es_endpoint, index, monkeypatch
):
    async def body(client):
        started, release = asyncio.Event(), asyncio.Event()
        source = SlowSource(started, release)
        monkeypatch.setattr(jobs_module, "load_source", lambda _name: lambda _cfg: source)
        await saved_connector(client, index)
        first = asyncio.create_task(sync_connector(client, index))
        await asyncio.wait_for(started.wait(), 60)
        second = await sync_connector(client, index)
        release.set()
        return await first, second

    first, second = with_client(es_endpoint, body)
    assert first.status == JobStatus.COMPLETED and first.result.indexed == 3
    assert second.status == JobStatus.ERROR
    assert f"is being synced by job {first.job_id}" in (second.error or "")


def test_a_job_whose_worker_died_is_given_up_and_its_connector_says_so(es_endpoint, index):
    async def body(client):
        connector = await saved_connector(client, index)
        dead = new_job_id()
        await lease.acquire(client, index, dead, ttl=-1)  # expired at once: nobody renews it
        await JobStore(client).create(
            connector, JobType.FULL, TriggerMethod.ON_DEMAND, job_id=dead, claimed=True
        )
        await JobStore(client).update(dead, {"last_seen": "2000-01-01T00:00:00+00:00"})
        lost = await reclaim_lost_jobs(client)
        return dead, lost, await JobStore(client).get(dead), await ConnectorStore(client).get(index)

    dead, lost, job, connector = with_client(es_endpoint, body)
    assert dead in lost
    assert job.status == JobStatus.ERROR and "worker lost" in job.error
    assert job.completed_at
    assert connector.last_sync_status == JobStatus.ERROR
    assert "worker lost" in connector.last_sync_error
    assert connector.sync_lease is None


def test_the_next_sync_takes_over_an_expired_lease_and_ends_the_lost_job(
    es_endpoint, index, monkeypatch
):
    monkeypatch.setattr(jobs_module, "load_source", lambda _name: lambda _cfg: ListSource(docs(2)))

    async def body(client):
        connector = await saved_connector(client, index)
        dead = new_job_id()
        await lease.acquire(client, index, dead, ttl=-1)
        await JobStore(client).create(
            connector, JobType.FULL, TriggerMethod.ON_DEMAND, job_id=dead, claimed=True
        )
        outcome = await sync_connector(client, index)
        return outcome, await JobStore(client).get(dead), await ConnectorStore(client).get(index)

    outcome, dead_job, connector = with_client(es_endpoint, body)
    assert outcome.status == JobStatus.COMPLETED
    assert dead_job.status == JobStatus.ERROR and "worker lost" in dead_job.error
    assert connector.last_sync_status == JobStatus.COMPLETED
    assert connector.sync_lease is None, "the lease is given up when the job ends"


def test_a_one_shot_sync_leaves_no_pending_job(es_endpoint, index, monkeypatch):
    monkeypatch.setattr(jobs_module, "load_source", lambda _name: lambda _cfg: ListSource(docs(1)))

    async def body(client):
        await saved_connector(client, index)
        outcome = await sync_connector(client, index)
        pending = await JobStore(client).find(connector_id=index, statuses=(JobStatus.PENDING,))
        return outcome, pending

    outcome, pending = with_client(es_endpoint, body)
    assert outcome.status == JobStatus.COMPLETED
    assert pending == []


def test_a_bad_schedule_is_refused_when_the_connector_is_saved():
    spec = {
        "id": "x",
        "service_type": "postgresql",
        "index_name": "x",
        "scheduling": {"full": {"enabled": True, "interval": "every day"}},
    }
    with pytest.raises(ConnectorSpecError, match=r"scheduling.full.interval: 'every day'"):
        connector_document(spec)


UNCOMPUTABLE = [
    "every day",
    "0 0 31 2 *",  # February 31st: never
    1e12,  # past the largest date
    float("inf"),
    float("nan"),
    None,
    -5,
]


@pytest.mark.parametrize("interval", UNCOMPUTABLE, ids=repr)
def test_a_schedule_that_cannot_be_computed_is_refused_when_saved(interval):
    spec = {
        "id": "x",
        "service_type": "postgresql",
        "index_name": "x",
        "scheduling": {"full": {"enabled": True, "interval": interval}},
    }
    with pytest.raises(ConnectorSpecError, match=r"scheduling\.full\.interval"):
        connector_document(spec)


@pytest.mark.parametrize("interval", UNCOMPUTABLE, ids=repr)
def test_a_bad_schedule_saved_earlier_stops_no_other_connector(
    es_endpoint, index, monkeypatch, interval
):
    """Saved by an older version (or by hand): the service marks that connector error and
    runs everybody else's jobs in the same tick."""
    monkeypatch.setattr(jobs_module, "load_source", lambda _name: lambda _cfg: ListSource(docs(2)))

    async def body(client):
        bad = {"full": {"enabled": True, "interval": interval}}
        await saved_connector(client, index, scheduling=bad)
        healthy = await saved_connector(client, f"{index}-healthy")
        job = await JobStore(client).create(healthy, JobType.FULL, TriggerMethod.ON_DEMAND)
        await ConnectorsService(client, connector_ids=frozenset({index, healthy.id})).tick()
        return await ConnectorStore(client).get(index), await JobStore(client).get(job)

    connector, job = with_client(es_endpoint, body)
    assert connector.status == "error"
    assert "bad schedule" in connector.error
    assert job.status == JobStatus.COMPLETED, job


def test_job_ids_never_read_as_options():
    ids = {new_job_id() for _ in range(5000)}
    assert len(ids) == 5000
    assert not any(i.startswith("-") for i in ids)


def test_a_job_id_may_follow_a_double_dash():
    from connectors.cli import build_parser

    args = build_parser().parse_args(["cancel", "--", "-legacy-id"])
    assert args.job_id == "-legacy-id"


def test_concurrent_writes_to_one_job_and_connector_all_land(es_endpoint, index):
    """The heartbeat's last_seen and the job's own writes (progress, its end) race; an
    update that meets another gets a 409 from Elasticsearch unless it retries on conflict.
    CI saw the job's end fail that way right after an Elasticsearch restart."""

    async def body(client):
        connector = await saved_connector(client, index)
        job_id = await JobStore(client).create(
            connector, JobType.FULL, TriggerMethod.ON_DEMAND, claimed=True
        )
        writes = 10
        await asyncio.gather(
            *(JobStore(client).update(job_id, {f"field_{n}": n}) for n in range(writes)),
            *(ConnectorStore(client).update(index, {f"field_{n}": n}) for n in range(writes)),
        )
        job = await client.get(index=JOBS_INDEX, id=job_id)
        connector = await client.get(index=CONNECTORS_INDEX, id=index)
        return writes, job["_source"], connector["_source"]

    writes, job, connector = with_client(es_endpoint, body)
    for doc in (job, connector):
        assert {f"field_{n}" for n in range(writes)} <= doc.keys()


def test_a_claim_that_loses_leaves_the_winners_lease_alone(es_endpoint, index):
    """Two services list the same pending job; one claims it, then the other tries. The
    loser must change nothing: the winner keeps its lease and its heartbeat, and no
    second job of the connector starts beside it (the break: the loser freed the
    winner's lease, took it for the next job, and every job ended 'worker lost')."""

    async def body(client):
        connector = await saved_connector(client, index)
        jobs = JobStore(client)
        first = await jobs.create(connector, JobType.FULL, TriggerMethod.SCHEDULED)
        second = await jobs.create(connector, JobType.FULL, TriggerMethod.SCHEDULED)
        listing = [await jobs.get(first), await jobs.get(second)]  # both services see this
        winner = await claim_job(client, listing[0])
        loser = [await claim_job(client, listed) for listed in listing]
        held = (await ConnectorStore(client).get(index)).sync_lease
        await beat_once(client, winner)  # raises LeaseLost if the loser touched it
        statuses = [(await jobs.get(j)).status for j in (first, second)]
        return winner, loser, held, statuses

    winner, loser, held, statuses = with_client(es_endpoint, body)
    assert winner is not None and loser == [None, None]
    assert held.token == winner.token and held.job_id == winner.job_id
    assert statuses == [JobStatus.IN_PROGRESS, JobStatus.PENDING]


def test_cancel_of_an_ended_job_is_refused_and_changes_nothing(es_endpoint, index, monkeypatch):
    monkeypatch.setattr(jobs_module, "load_source", lambda _name: lambda _cfg: ListSource(docs(1)))

    async def body(client):
        await saved_connector(client, index)
        done = await sync_connector(client, index)
        before = await JobStore(client).get(done.job_id), await ConnectorStore(client).get(index)
        with pytest.raises(CancelRefused, match="has already ended") as refused:
            await cancel_job(client, done.job_id)
        after = await JobStore(client).get(done.job_id), await ConnectorStore(client).get(index)
        return str(refused.value), before, after

    message, before, after = with_client(es_endpoint, body)
    assert "\\n" not in message and "completed" in message
    assert before == after, "a refused cancel wrote something"
    assert after[1].last_sync_status == JobStatus.COMPLETED


def test_cancel_of_a_pending_job_ends_it_at_once(es_endpoint, index):
    async def body(client):
        connector = await saved_connector(client, index)
        job = await JobStore(client).create(connector, JobType.FULL, TriggerMethod.ON_DEMAND)
        written = await cancel_job(client, job)
        listed = await JobStore(client).get(job)
        return written, listed, await claim_job(client, listed)

    written, job, claim = with_client(es_endpoint, body)
    assert written == JobStatus.CANCELED and job.status == JobStatus.CANCELED
    assert job.canceled_at and job.completed_at
    assert claim is None, "a canceled job was claimed"


def test_a_canceling_job_never_heard_of_is_ended_by_the_sweep(es_endpoint, index):
    """A job asked to cancel while pending by an older version (or Kibana) has no worker
    and never had a heartbeat: the sweep ends it, as canceled."""

    async def body(client):
        connector = await saved_connector(client, index)
        job = await JobStore(client).create(connector, JobType.FULL, TriggerMethod.ON_DEMAND)
        await JobStore(client).update(job, {"status": JobStatus.CANCELING})
        lost = await reclaim_lost_jobs(client, index)
        return job, lost, await JobStore(client).get(job)

    job_id, lost, job = with_client(es_endpoint, body)
    assert lost == [job_id]
    assert job.status == JobStatus.CANCELED and job.canceled_at


def test_a_service_and_a_one_shot_sync_leave_other_connectors_jobs_alone(
    es_endpoint, index, monkeypatch
):
    """Runs share a cluster: a service with 3 s leases judged every quiet job in the index
    by its own lease, and claimed every pending one. Scoped, a service and a one-shot sync
    touch only the jobs of the connectors they serve; the services that serve the others
    still run and sweep theirs."""
    monkeypatch.setattr(jobs_module, "load_source", lambda _name: lambda _cfg: ListSource(docs(2)))
    short = lease.Timing(heartbeat_seconds=0.5, lease_seconds=3)

    async def body(client):
        ours = await saved_connector(client, f"{index}-ours")
        waiting = await saved_connector(client, f"{index}-waiting")
        quiet = await saved_connector(client, f"{index}-quiet")
        jobs = JobStore(client)
        pending = await jobs.create(waiting, JobType.FULL, TriggerMethod.ON_DEMAND)
        # Run by something with no lease of ours (Elastic's framework, a service with
        # longer leases), last heard of a minute ago.
        running = await jobs.create(quiet, JobType.FULL, TriggerMethod.ON_DEMAND, claimed=True)
        await jobs.update(running, {"last_seen": clock.iso(clock.seconds() - 60)})

        options = SyncOptions(leases=short)
        scoped = ConnectorsService(client, options=options, connector_ids=frozenset({ours.id}))
        await scoped.tick()
        await sync_connector(client, ours.id, options=options)
        untouched = [(await jobs.get(j)).status for j in (pending, running)]

        others = frozenset({waiting.id, quiet.id})
        await ConnectorsService(client, options=options, connector_ids=others).tick()
        served = [(await jobs.get(j)).status for j in (pending, running)]
        return untouched, served

    untouched, served = with_client(es_endpoint, body)
    assert untouched == [JobStatus.PENDING, JobStatus.IN_PROGRESS], untouched
    assert served == [JobStatus.COMPLETED, JobStatus.ERROR], served
