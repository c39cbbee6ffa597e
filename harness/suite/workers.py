"""Several services sharing the work, as users scale the runtime: more ``connectors
service`` processes against one cluster. Every connector inherits it; a subject without
a service to start (start_service()) is skipped, saying so.

Three services poll the same jobs index, with a heartbeat of half a second, and read the
source through a throttled link, so each job outlasts several heartbeats and several of
the other services' polls. Three jobs of one connector are queued at once (each service
lists them all, then claims from that listing while the others run and end them), then,
after the source changes again, two more. The jobs must run one after another, each
once, all to ``completed``; the index must be exact; and the changes must be counted
once over the job records (a job run twice, or two at once, counts a deletion twice or
loses one). Two services that freed each other's leases failed every part of this.

Other runs share the cluster, so the services must also leave alone the jobs of every
connector they do not serve: a pending one (not theirs to run) and a quiet one in progress
(run elsewhere, with leases of its own). A service that swept every quiet job by its own
3-second lease ended other test runs' healthy syncs."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

import pytest

from harness import state_index
from harness.faults.disruption import (
    jobs_of,
    quick_lease,
    slow_source,
    stop_process,
    subject_env,
    until,
)
from harness.faults.scenario_faults import abandon_a_job, assert_no_live_job
from harness.scenario import ScenarioRun
from harness.services.es_http import es_request
from harness.subjects import ConnectorSpec, ServiceSubject

SERVICES = 3
FINAL = ("completed", "error", "canceled")
JOB_WAIT_SECONDS = 300


class WorkersSuite:
    def test_three_services_run_queued_jobs_once_each_one_at_a_time(
        self, run: ScenarioRun, fault_corpus_size: str, tmp_path: Path
    ) -> None:
        subject = run.subject
        if not isinstance(subject, ServiceSubject):
            pytest.skip(f"the {subject.name} subject offers no service to start (start_service())")
        run.fixture.load(fault_corpus_size)
        run.sync()
        logs = [tmp_path / f"service-{n}.log" for n in range(SERVICES)]
        stem = run.connector_id[-12:].replace("-", "0")
        queued = [f"shared{stem}{n}" for n in range(5)]
        with slow_source(run) as (_source, configuration), subject_env(run, **quick_lease()):
            spec = run.spec(configuration)
            with _foreign_jobs(run) as foreign, _services(subject, spec, logs):
                first = run.fixture.mutate(update=0.1, delete=0.1, insert=0.1)
                for job_id in queued[:3]:
                    subject.queue_job(spec, job_id)
                _wait_final(run, queued[:3], logs)
                second = run.fixture.mutate(update=0.1, delete=0.1, insert=0.1)
                for job_id in queued[3:]:
                    subject.queue_job(spec, job_id)
                _wait_final(run, queued, logs)
                after = _statuses(run, foreign)
        assert after == foreign, (
            f"jobs of a connector the services do not serve changed: {foreign} -> {after}\n"
            f"{_tails(logs)}"
        )
        jobs = {job["id"]: job for job in jobs_of(run) if job["id"] in queued}
        statuses = {job_id: jobs[job_id]["status"] for job_id in queued}
        assert set(statuses.values()) == {"completed"}, (
            f"jobs queued for three services ended {statuses}:\n{_errors(jobs)}\n{_tails(logs)}"
        )
        _assert_each_started_once(queued, logs)
        _assert_one_at_a_time([jobs[job_id] for job_id in queued])
        run.assert_index_matches()
        deleted = sum(int(jobs[j].get("deleted_document_count") or 0) for j in queued)
        expected_deleted = len(first.deleted) + len(second.deleted)
        assert deleted == expected_deleted, (
            f"the three jobs counted {deleted} deletions, the source lost {expected_deleted}: "
            "a job ran twice, or two ran at once"
        )
        assert_no_live_job(run)
        run.note(services=SERVICES, jobs=len(queued), deleted=deleted)

    def test_a_running_service_ends_a_lost_job_and_spares_a_live_one(
        self, run: ScenarioRun, tmp_path: Path
    ) -> None:
        """A service with nothing queued, beside a job a dead worker left in progress and
        a job another worker is running (heard of at each heartbeat): the service's own
        sweep ends the lost job, with no new sync to do it, and leaves the live one. A
        sweep that judged live jobs instead of lost ones passed every other scenario."""
        subject = run.subject
        if not isinstance(subject, ServiceSubject):
            pytest.skip(f"the {subject.name} subject offers no service to start (start_service())")
        run.fixture.load("tiny")
        run.sync()
        lost = abandon_a_job(run)
        live = f"alive{run.connector_id[-12:].replace('-', '0')}"
        log_path = tmp_path / "service.log"
        lease = quick_lease()
        with (
            subject_env(run, **lease),
            _heartbeating(run, live, float(lease["CONNECTORS_HEARTBEAT_SECONDS"])),
            log_path.open("a") as log,
        ):
            known = {job["id"] for job in jobs_of(run)}
            service = subject.start_service(run.spec(run.fixture.configuration()), log)
            try:
                until(
                    lambda: _statuses(run, {lost: ""})[lost] in FINAL,
                    JOB_WAIT_SECONDS,
                    f"the service to end the lost job {lost}",
                    lambda: _tails([log_path]),
                )
                # The sweep that ended it may not have judged the live job yet: read it once
                # the service has begun its next tick (it marks the connector seen first).
                ended_at = _when(jobs_of(run), lost, "completed_at")
                until(
                    lambda: _connector_seen(run) > ended_at,
                    JOB_WAIT_SECONDS,
                    "the service to finish the sweep that ended the lost job",
                    lambda: _tails([log_path]),
                )
                spared = _statuses(run, {live: ""})[live]
            finally:
                stop_process(service)
        ended = {job["id"]: job for job in jobs_of(run)}[lost]
        assert ended["status"] == "error" and "lost" in (ended.get("error") or ""), (
            f"the lost job ended {ended['status']} ({ended.get('error')}): it must be ended as lost"
        )
        assert spared == "in_progress", (
            f"the service's sweep ended job {live}, which was heard of at each heartbeat: "
            f"{spared}; only jobs not heard of for a lease's length are lost"
        )
        started = {job["id"] for job in jobs_of(run)} - known - {live}
        assert not started, f"the service ran a sync nobody queued: {started}"
        assert_no_live_job(run)


def _when(jobs: list[dict[str, Any]], job_id: str, field: str) -> dt.datetime:
    job = next(j for j in jobs if j["id"] == job_id)
    return dt.datetime.fromisoformat(str(job[field]))


def _connector_seen(run: ScenarioRun) -> dt.datetime:
    found = es_request(run.es, "GET", state_index.connector_doc(run.connector_id))["_source"]
    seen = found.get("last_seen")
    return dt.datetime.fromisoformat(seen) if seen else dt.datetime.min.replace(tzinfo=dt.UTC)


@contextmanager
def _heartbeating(run: ScenarioRun, job_id: str, every: float) -> Iterator[None]:
    """A job in progress under another worker, its heartbeat written every ``every``
    seconds (as the services' own) until the block ends; then removed."""
    document = {
        "connector": {"id": run.connector_id, "index_name": run.index},
        "job_type": "full",
        "status": "in_progress",
        "created_at": _clock_iso(minutes_ago=0),
        "worker_hostname": "a-live-worker",
    }
    done = threading.Event()
    update = f"/{state_index.JOBS}/_update/{job_id}?refresh=true"

    def beat() -> None:
        """As a worker beats: last_seen alone, so a status someone else wrote stays."""
        while not done.wait(every):
            es_request(run.es, "POST", update, {"doc": {"last_seen": _clock_iso(0)}})

    first = document | {"last_seen": _clock_iso(minutes_ago=0)}
    es_request(run.es, "PUT", f"{state_index.job_doc(job_id)}?refresh=true", first)
    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(30)
        es_request(run.es, "DELETE", f"{state_index.job_doc(job_id)}?refresh=true")


@contextmanager
def _services(subject: ServiceSubject, spec: ConnectorSpec, logs: list[Path]) -> Iterator[None]:
    with ExitStack() as stack:
        for path in logs:
            log: IO[str] = stack.enter_context(path.open("a"))
            process = subject.start_service(spec, log)
            stack.callback(stop_process, process)
        yield


@contextmanager
def _foreign_jobs(run: ScenarioRun) -> Iterator[dict[str, str]]:
    """Jobs of a connector that exists but that nobody here serves: one pending, one in
    progress whose last heartbeat was a minute ago (no lease of this framework's holds
    it). Removed after, with their connector."""
    elsewhere = f"{run.connector_id}-elsewhere"
    connector = {
        "id": elsewhere,
        "name": elsewhere,
        "index_name": elsewhere,
        "service_type": "elsewhere",
        "configuration": {},
        "status": "connected",
    }
    es_request(run.es, "PUT", f"{state_index.connector_doc(elsewhere)}?refresh=true", connector)
    stem = run.connector_id[-12:].replace("-", "0")
    planted = {f"foreign{stem}p": "pending", f"foreign{stem}r": "in_progress"}
    quiet = _clock_iso(minutes_ago=1)
    for job_id, status in planted.items():
        document = {
            "connector": {"id": elsewhere, "index_name": elsewhere, "service_type": "elsewhere"},
            "job_type": "full",
            "trigger_method": "on_demand",
            "status": status,
            "created_at": quiet,
            "last_seen": quiet if status == "in_progress" else None,
            "worker_hostname": "another-deployment",
        }
        es_request(run.es, "PUT", f"{state_index.job_doc(job_id)}?refresh=true", document)
    try:
        yield planted
    finally:
        for job_id in planted:
            es_request(run.es, "DELETE", f"{state_index.job_doc(job_id)}?refresh=true")
        es_request(run.es, "DELETE", f"{state_index.connector_doc(elsewhere)}?refresh=true")


def _statuses(run: ScenarioRun, job_ids: dict[str, str]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for job_id in job_ids:
        hit = es_request(run.es, "GET", state_index.job_doc(job_id))
        found[job_id] = hit["_source"]["status"]
    return found


def _clock_iso(minutes_ago: float) -> str:
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
    return moment.isoformat()


def _wait_final(run: ScenarioRun, queued: list[str], logs: list[Path]) -> None:
    def ended() -> bool:
        statuses = {job["id"]: job["status"] for job in jobs_of(run)}
        return all(statuses.get(job_id) in FINAL for job_id in queued)

    until(ended, JOB_WAIT_SECONDS, f"the services to end jobs {queued}", lambda: _tails(logs))


def _assert_each_started_once(queued: list[str], logs: list[Path]) -> None:
    """From the services' own logs: a subject whose service says which job it runs is
    held to each job starting once; one that says nothing of it is judged by the counts."""
    text = "\n".join(path.read_text(errors="replace") for path in logs)
    if not re.search(r"running \w+ sync job", text):
        return
    starts = {job_id: len(re.findall(rf"sync job {job_id}\b", text)) for job_id in queued}
    assert all(count == 1 for count in starts.values()), (
        f"times each job was started by the three services: {starts}\n{_tails(logs)}"
    )


def _assert_one_at_a_time(jobs: list[dict[str, Any]]) -> None:
    """From the job records: no job of the connector started before the one before it
    ended. Concurrent runs of one connector still converge (a second delete of a stale
    document finds nothing), so only the records' times show them."""
    spans = sorted(
        (dt.datetime.fromisoformat(str(j["started_at"])),
         dt.datetime.fromisoformat(str(j["completed_at"])), j["id"])
        for j in jobs
    )  # fmt: skip
    overlapping = [
        f"{later[2]} started at {later[0]}, before {earlier[2]} ended at {earlier[1]}"
        for earlier, later in itertools.pairwise(spans)
        if later[0] < earlier[1]
    ]
    assert not overlapping, (
        "jobs of one connector ran at the same time (one sync per connector must run at a "
        "time): " + "; ".join(overlapping)
    )


def _errors(jobs: dict[str, dict[str, object]]) -> str:
    return "\n".join(f"  {job_id}: {job.get('error')}" for job_id, job in jobs.items())


def _tails(logs: list[Path]) -> str:
    return "\n".join(
        f"--- {path.name}\n{path.read_text(errors='replace')[-1500:]}"
        for path in logs
        if path.exists()
    )
