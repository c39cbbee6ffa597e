"""Job ownership under several workers, as a Hypothesis state machine against the real
Elasticsearch.

Three workers interleave claiming (from a listing that may be stale, as two services'
listings are), one-shot syncs, heartbeats, ending a job every way it can end, pausing
past the lease, being killed, resuming, cancelation and the lost-job sweep. Time is the
runtime's own clock (``connectors.clock``), moved forward by the machine instead of slept:
a worker that is neither paused nor killed beats before time moves, as its heartbeat task
would. After every step the state in Elasticsearch must satisfy:

- at most one job of the connector is live (in_progress or canceling);
- a live lease belongs to a live job, and a running worker still holds its lease;
- a job is started once (again only after it was suspended);
- an ended job never changes again.

When the workers stop (killed, then the lease's length passes and the sweep runs), no job
is live and no lease is left. Examples: ``HYPOTHESIS_OWNERSHIP_EXAMPLES`` (default 20).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections import Counter
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from connectors import clock, defaults
from connectors.api import CancelRefused, cancel_job, start_on_demand_job
from connectors.es import lease
from connectors.es.client import EsSettings, es_client
from connectors.es.rest import EsClient
from connectors.es.state import (
    CONNECTORS_INDEX,
    JOBS_INDEX,
    LIVE,
    RUNNABLE,
    ConnectorDoc,
    ConnectorStore,
    JobDoc,
    JobStatus,
    JobStore,
    JobType,
    Lease,
    TriggerMethod,
    ensure_state_indices,
)
from connectors.jobs import end_job
from connectors.liveness import beat_once, claim_job, reclaim_lost_jobs

pytestmark = pytest.mark.services

T = TypeVar("T")
WORKERS = 3
MAX_JOBS = 6
EXAMPLES = int(os.environ.get("HYPOTHESIS_OWNERSHIP_EXAMPLES", "20"))
ENDINGS = (JobStatus.COMPLETED, JobStatus.ERROR, JobStatus.CANCELED, JobStatus.SUSPENDED)
_examples = itertools.count()
# Every run: real Elasticsearch round trips (no deadline, no health check on speed), and
# no example database (a counterexample is printed, not replayed from a local cache).
RUNS = settings(
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@dataclass
class Worker:
    grant: lease.Grant | None = None
    paused: bool = False


@pytest.fixture(scope="module")
def es(es_endpoint: Any) -> Iterator[tuple[asyncio.AbstractEventLoop, EsClient]]:
    loop = asyncio.new_event_loop()
    client = es_client(EsSettings(es_endpoint.url))
    loop.run_until_complete(ensure_state_indices(client))
    yield loop, client
    loop.run_until_complete(client.close())
    loop.close()


class JobOwnership(RuleBasedStateMachine):
    loop: asyncio.AbstractEventLoop
    client: EsClient
    prefix: str

    def __init__(self) -> None:
        super().__init__()
        self.connector_id = f"{self.prefix}-{next(_examples)}"
        self.workers = [Worker() for _ in range(WORKERS)]
        self.jobs: list[str] = []
        self.starts: Counter[str] = Counter()
        self.resumable: Counter[str] = Counter()
        self.ended: dict[str, str] = {}
        self.listings: list[list[JobDoc]] = []

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    @initialize()
    def save_connector(self) -> None:
        source = {
            "id": self.connector_id,
            "service_type": "ownership-machine",  # no such source: no service runs it
            "index_name": self.connector_id,
            "configuration": {},
        }
        self.run(ConnectorStore(self.client).save(source))
        self.connector = ConnectorDoc.from_source(source)

    # -- what workers and users do ------------------------------------------------------

    @precondition(lambda self: len(self.jobs) < MAX_JOBS)
    @rule()
    def enqueue(self) -> None:
        store = JobStore(self.client)
        job = self.run(store.create(self.connector, JobType.FULL, TriggerMethod.SCHEDULED))
        self.jobs.append(job)
        self.list_runnable_jobs()

    @rule()
    def list_runnable_jobs(self) -> None:
        """A service lists the runnable jobs; it may claim from this listing much later."""
        store = JobStore(self.client)
        found = self.run(store.find(self.connector_id, statuses=RUNNABLE, size=MAX_JOBS * 2))
        if found:
            self.listings.append(sorted(found, key=lambda job: str(job.created_at)))

    @precondition(lambda self: bool(self.listings))
    @rule(w=st.integers(0, WORKERS - 1), age=st.integers(0, 4 * MAX_JOBS))
    def service_tick(self, w: int, age: int) -> None:
        """An idle worker claims the first job it can from a listing of some age, as a
        service walks its listing: any job in it may have been claimed, run or ended by
        another worker since."""
        if self.workers[w].grant is not None:
            return
        for listed in self.listings[-1 - age % len(self.listings)]:
            before = self.run(JobStore(self.client).get(listed.id)).status
            grant = self.run(claim_job(self.client, listed))
            if grant is not None:
                assert before in RUNNABLE, f"job {listed.id} was {before}: claimed again"
                self._started(w, grant)
                return

    @precondition(lambda self: len(self.jobs) < MAX_JOBS)
    @rule(w=st.integers(0, WORKERS - 1))
    def one_shot_sync(self, w: int) -> None:
        if self.workers[w].grant is not None:
            return
        try:
            grant = self.run(start_on_demand_job(self.client, self.connector_id, JobType.FULL))
        except lease.LeaseHeld:
            return
        self.jobs.append(grant.job_id)
        self._started(w, grant)

    @rule(w=st.integers(0, WORKERS - 1), how=st.sampled_from(ENDINGS))
    def end(self, w: int, how: JobStatus) -> None:
        worker = self.workers[w]
        if worker.grant is None or worker.paused:
            return
        grant = worker.grant
        status, _result, _error = self.run(
            end_job(self.client, grant.job_id, self.connector, how, None, None, grant)
        )
        if status == how == JobStatus.SUSPENDED:
            self.resumable[grant.job_id] += 1
        worker.grant = None

    @rule(w=st.integers(0, WORKERS - 1), how=st.sampled_from(["pause", "resume", "kill"]))
    def disrupt(self, w: int, how: str) -> None:
        """Freeze a worker (it stops beating), wake it (it beats: it goes on if nobody
        took its lease, and drops its job without writing anything if somebody did), or
        kill it (its job and lease are left as they are)."""
        worker = self.workers[w]
        if how == "kill":
            self.workers[w] = Worker()
        elif worker.grant is None:
            return
        elif how == "pause":
            worker.paused = True
        elif worker.paused:
            worker.paused = False
            try:
                self.run(beat_once(self.client, worker.grant))
            except lease.LeaseLost:
                worker.grant = None

    @precondition(lambda self: bool(self.jobs))
    @rule(pick=st.integers(0, MAX_JOBS - 1))
    def cancel(self, pick: int) -> None:
        job_id = self.jobs[pick % len(self.jobs)]
        try:
            self.run(cancel_job(self.client, job_id))
        except CancelRefused:
            status = self.run(JobStore(self.client).get(job_id)).status
            assert JobStatus(status).is_terminal, f"cancel of {status} job {job_id} refused"

    @rule()
    def sweep(self) -> None:
        self.run(reclaim_lost_jobs(self.client, self.connector_id))

    @rule(seconds=st.sampled_from([1.0, 0.5, 0.99]))
    def time_passes(self, seconds: float) -> None:
        """1 s, or half or nearly all of a lease's length."""
        seconds = seconds if seconds >= 1 else seconds * defaults.LEASE_SECONDS
        for worker in self.workers:  # their heartbeat tasks run as time goes by
            if worker.grant is not None and not worker.paused:
                try:
                    self.run(beat_once(self.client, worker.grant))
                except lease.LeaseLost:
                    worker.grant = None
        _advance(seconds)

    # -- what must hold ----------------------------------------------------------------

    @invariant()
    def at_most_one_live_job(self) -> None:
        live = [j for j, s in self._statuses().items() if s in LIVE]
        assert len(live) <= 1, f"jobs live at once: {live}"

    @invariant()
    def a_live_lease_has_a_live_job_and_running_workers_hold_theirs(self) -> None:
        held = self._lease()
        statuses = self._statuses()
        if held is not None and held.is_live:
            status = statuses.get(held.job_id)
            assert status in LIVE, f"live lease of job {held.job_id}, which is {status}"
        for worker in self.workers:
            if worker.grant is None or worker.paused:
                continue
            if statuses.get(worker.grant.job_id) in LIVE:
                assert held is not None and held.token == worker.grant.token, (
                    f"running job {worker.grant.job_id} lost its lease to {held}"
                )

    @invariant()
    def ended_jobs_stay_ended(self) -> None:
        for job_id, status in self._statuses().items():
            if job_id in self.ended:
                assert status == self.ended[job_id], f"{job_id}: {self.ended[job_id]} -> {status}"
            elif JobStatus(status).is_terminal:
                self.ended[job_id] = status

    def teardown(self) -> None:
        """Every worker stops for good; once a lease's length has passed the sweep ends
        whatever they left live, and nothing is live or leased after it."""
        try:
            if not getattr(self, "connector", None):
                return
            self.workers = [Worker() for _ in range(WORKERS)]
            _advance(defaults.LEASE_SECONDS + 1)
            self.run(reclaim_lost_jobs(self.client, self.connector_id))
            statuses = self._statuses()
            assert not [j for j, s in statuses.items() if s in LIVE], statuses
            held = self._lease()
            assert held is None or not held.is_live, held
        finally:
            _advance(-_offset[0])
            self.run(self._forget())

    async def _forget(self) -> None:
        """Leave nothing behind in the shared state indices for a service to walk."""
        for job_id in self.jobs:  # the distribution has no _delete_by_query (no reindex)
            await self.client.request("DELETE", f"/{JOBS_INDEX}/_doc/{job_id}")
        await self.client.request(
            "DELETE", f"/{CONNECTORS_INDEX}/_doc/{self.connector_id}", params={"refresh": "true"}
        )

    # -- helpers -----------------------------------------------------------------------

    def _started(self, w: int, grant: lease.Grant) -> None:
        job_id = grant.job_id
        assert self.starts[job_id] <= self.resumable[job_id], (
            f"job {job_id} started {self.starts[job_id] + 1} times, suspended "
            f"{self.resumable[job_id]}"
        )
        self.starts[job_id] += 1
        self.workers[w] = Worker(grant)

    def _statuses(self) -> dict[str, str]:
        found = self.run(JobStore(self.client).find(self.connector_id, size=MAX_JOBS * 2))
        return {job.id: job.status for job in found}

    def _lease(self) -> Lease | None:
        hit = self.run(self.client.get(index=CONNECTORS_INDEX, id=self.connector_id))
        return lease.current_lease(hit)


_offset = [0.0]


def _advance(seconds: float) -> None:
    _offset[0] += seconds


def _shifted() -> float:
    return time.time() + _offset[0]


def test_jobs_of_one_connector_run_once_and_one_at_a_time_under_three_workers(
    es: tuple[asyncio.AbstractEventLoop, EsClient],
    run_namespace: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(clock, "seconds", _shifted)
    JobOwnership.loop, JobOwnership.client = es
    JobOwnership.prefix = run_namespace.es_name("ownership")
    run_state_machine_as_test(
        JobOwnership,
        settings=settings(RUNS, max_examples=EXAMPLES),
    )


def _lease_keyed_by_job_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bug two services met: a lease held by *the same job* counted as one's own, and
    released by job id, so a losing claim freed the winner's lease."""
    acquire, release = lease.acquire, lease.release

    async def acquire_by_job(client: EsClient, connector_id: str, job_id: str, ttl: float) -> Any:
        hit = await client.get(index=CONNECTORS_INDEX, id=connector_id)
        current = lease.current_lease(hit)
        if current and current.job_id == job_id:
            await release(client, connector_id, current.token)
        return await acquire(client, connector_id, job_id, ttl)

    async def release_by_job(client: EsClient, connector_id: str, token: str) -> None:
        hit = await client.get(index=CONNECTORS_INDEX, id=connector_id)
        current = lease.current_lease(hit)
        if current:
            await release(client, connector_id, current.token)

    monkeypatch.setattr(lease, "acquire", acquire_by_job)
    monkeypatch.setattr(lease, "release", release_by_job)


def test_the_machine_catches_a_lease_keyed_by_job_id(
    es: tuple[asyncio.AbstractEventLoop, EsClient],
    run_namespace: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(clock, "seconds", _shifted)
    _lease_keyed_by_job_id(monkeypatch)
    JobOwnership.loop, JobOwnership.client = es
    JobOwnership.prefix = run_namespace.es_name("ownership-broken")
    with pytest.raises(AssertionError, match=r"lost its lease|jobs live at once|started"):
        run_state_machine_as_test(
            JobOwnership,
            settings=settings(
                RUNS,
                max_examples=EXAMPLES * 5,
                report_multiple_bugs=False,
                phases=[Phase.generate],  # found is enough: no shrinking
                derandomize=True,  # the same examples every run: caught every run
            ),
        )
