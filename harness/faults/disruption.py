"""What crash scenarios need around a scenario run: a private Elasticsearch to pause or
kill, a source slow enough to be disrupted part-way, a sync running in the background, the
job records as the connector protocol keeps them, and waits on conditions."""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from harness import state_index
from harness.faults.proxy import FaultProxy
from harness.faults.scenario_faults import source_behind_proxy
from harness.load import Load
from harness.scenario import ScenarioRun
from harness.services.es_http import EsHttpError, es_request
from harness.services.kind import DisruptableService
from harness.subjects import SyncOutcome

JOBS = f"/{state_index.JOBS}"
# A tiny corpus read at this rate lasts seconds, written in small batches as it is read:
# long enough to be disrupted between acknowledged writes.
SLOW_SOURCE_BYTES_PER_SECOND = 40_000
HOLD_AFTER_BYTES = 64_000  # ~1.6 s of the throttled read: held there by the proxy itself
SMALL_BATCHES = {"CONNECTORS_BULK_MAX_DOCS": "40", "CONNECTORS_SOURCE_BATCH": "40"}


def until(
    condition: Callable[[], object],
    timeout: float,
    what: str,
    tail: Callable[[], str] = lambda: "",
    longest: float = 0.5,
) -> None:
    """Poll ``condition``; on timeout fail naming what was awaited, with a log tail.

    The wait between polls grows from 50 ms to ``longest``: a condition met at once is
    seen at once, and one that takes seconds (a lease expiring, a service finishing its
    jobs) is not asked twenty times a second: each poll is a refresh and a search on the
    node the sync is using."""
    deadline = time.monotonic() + timeout
    pause = 0.05
    while not condition():
        if time.monotonic() > deadline:
            shown = tail().rstrip()
            raise AssertionError(
                f"timed out after {timeout:.0f}s waiting for {what}"
                + (f"\n--- last lines of the log ---\n{shown}" if shown else "")
            )
        time.sleep(min(pause, max(0.0, deadline - time.monotonic()) + 0.01))
        pause = min(pause * 1.5, longest)


def hold(seconds: float) -> None:
    """Keep a fault on for its length: the fault is the duration, nothing is awaited."""
    time.sleep(seconds)


@contextmanager
def on_elasticsearch(run: ScenarioRun, service: DisruptableService) -> Iterator[None]:
    """The whole scenario (subject and checks) on ``service``, which it may pause, kill
    and restart; afterwards what it wrote there is removed and the run points back."""
    direct, subject = run.es, run.subject
    follow(run, service)
    try:
        yield
    finally:
        for path in (f"/{run.index}", state_index.connector_doc(run.connector_id)):
            with contextlib.suppress(Exception):  # best effort: the cluster is private
                es_request(service.endpoint, "DELETE", path + "?ignore_unavailable=true")
        run.es, subject.endpoint = direct, direct


def follow(run: ScenarioRun, service: DisruptableService) -> None:
    """After a restart the endpoint may have moved (a container's published port)."""
    run.es = run.subject.endpoint = service.endpoint


@contextmanager
def slow_source(run: ScenarioRun) -> Iterator[tuple[FaultProxy, dict[str, Any]]]:
    """The source behind a throttled link (which ``wait_mid_sync`` can hold shut), and the
    configuration that reads through it, in small pieces."""
    run.fixture.read_in_small_pieces()
    with source_behind_proxy(run) as (proxy, configuration), subject_env(run, **SMALL_BATCHES):
        proxy.throttle(SLOW_SOURCE_BYTES_PER_SECOND)
        yield proxy, configuration


@contextmanager
def subject_env(run: ScenarioRun, **env: str) -> Iterator[None]:
    saved = dict(run.subject.env)
    run.subject.env.update(env)
    try:
        yield
    finally:
        run.subject.env.clear()
        run.subject.env.update(saved)


@dataclasses.dataclass
class BackgroundSync:
    """A full sync in a thread, so the scenario can disrupt it while it runs."""

    run: ScenarioRun
    configuration: dict[str, Any]
    outcome: SyncOutcome | None = None
    crash: BaseException | None = None
    ended_at: float = 0.0

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._sync, daemon=True)
        self._thread.start()

    def _sync(self) -> None:
        try:
            self.outcome = self.run.sync(configuration=self.configuration, expect_ok=False)
        except BaseException as exc:  # reported by result()
            self.crash = exc
        self.ended_at = time.monotonic()

    def running(self) -> bool:
        return self._thread.is_alive()

    def result(self, timeout: float = 600) -> SyncOutcome:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"the sync did not end within {timeout:.0f}s"
        if self.crash is not None:
            raise AssertionError(f"the sync crashed: {self.crash!r}") from self.crash
        assert self.outcome is not None
        return self.outcome


def indexed_so_far(run: ScenarioRun) -> int:
    """What the sync has written so far, refreshed so that no write is missed."""
    try:
        es_request(run.es, "POST", f"/{run.index}/_refresh?ignore_unavailable=true")
        found = es_request(run.es, "GET", f"/{run.index}/_count?ignore_unavailable=true")
    except EsHttpError as exc:
        if exc.status == 503:  # created, its shard not active yet
            return 0
        raise
    return int(found.get("count", 0))


def wait_mid_sync(
    run: ScenarioRun, running: Callable[[], bool], tail: Callable[[], str], source: FaultProxy
) -> int:
    """Until the sync is part-way through its read -- its first documents written, or a
    first stretch of the source read (a source may fetch many rows at a time) -- then hold
    the source shut: the sync waits there, for certain unfinished, until the scenario
    releases it. Returns how many documents were written by then. A sync that ends first
    makes the scenario meaningless, so that fails too."""
    seen: list[int] = [0]
    source.hold_after(HOLD_AFTER_BYTES)  # however late the polls below come

    def part_way() -> bool:
        if not running() or source.holding:
            return True
        seen[0] = indexed_so_far(run)
        return seen[0] > 0

    # Polled briskly: the point is to catch the sync part-way, not after its end.
    until(part_way, 300, "the sync to read or write its first documents", tail, longest=0.1)
    source.hold()
    seen[0] = indexed_so_far(run)
    assert running(), (
        "the sync ended before it could be disrupted: the source is too fast or the corpus "
        "too small for this scenario"
    )
    return seen[0]


def jobs_of(run: ScenarioRun) -> list[dict[str, Any]]:
    """The connector's jobs, oldest first, each with its id."""
    es_request(run.es, "POST", f"{JOBS}/_refresh?ignore_unavailable=true")
    found = es_request(
        run.es,
        "POST",
        f"{JOBS}/_search?ignore_unavailable=true",
        {
            "size": 100,
            "query": {"term": {"connector.id": run.connector_id}},
            "sort": [{"created_at": "asc"}],
        },
    )
    return [{"id": hit["_id"], **hit["_source"]} for hit in found["hits"]["hits"]]


def job_status(run: ScenarioRun, job_id: str) -> str | None:
    return next((j["status"] for j in jobs_of(run) if j["id"] == job_id), None)


QUICK_HEARTBEAT_SECONDS = 0.5
QUICK_LEASE_SECONDS = 3.0


def quick_lease(load: Load | None = None) -> dict[str, str]:
    """The lease a scenario gives the services it starts: a lost job is seen within
    seconds, and a live job's heartbeat (a read and two refreshed writes) is never later
    than the lease on a busy machine: both scale with the measured load (harness.load)."""
    load = load or Load.now()
    return {
        "CONNECTORS_HEARTBEAT_SECONDS": f"{load.scaled(QUICK_HEARTBEAT_SECONDS):.2f}",
        "CONNECTORS_LEASE_SECONDS": f"{load.scaled(QUICK_LEASE_SECONDS):.2f}",
    }


def lease_expired(run: ScenarioRun) -> bool:
    """Whether no live lease holds the connector (a subject that keeps none: always)."""
    try:
        doc = es_request(run.es, "GET", state_index.connector_doc(run.connector_id))
    except EsHttpError as exc:
        if exc.status == 404:  # a subject that keeps no connector document
            return True
        raise
    lease = doc.get("_source", {}).get("sync_lease")
    return not lease or float(lease["expires_at"]) < time.time()


def stop_process(process: subprocess.Popen[str]) -> None:
    """SIGTERM, as a user stops it; SIGKILL if it is still there a minute later."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
