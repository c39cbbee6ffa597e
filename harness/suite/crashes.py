"""Crash scenarios of the standard suite: Elasticsearch frozen past the request timeout or
killed and restarted mid-sync, the sync process SIGKILLed mid-sync and run again, the
service SIGTERM'd and started again. Each reads its source through a throttled link, so
even the tiny corpus is disrupted part-way, and ends on the anchors' invariants: the exact
document set, the right job status and counts, no job left unfinished. Capability
``faults``; size ``--faults SIZE``."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness.capabilities import requires
from harness.faults.disruption import (
    BackgroundSync,
    follow,
    hold,
    job_status,
    jobs_of,
    lease_expired,
    on_elasticsearch,
    quick_lease,
    slow_source,
    stop_process,
    subject_env,
    until,
    wait_mid_sync,
)
from harness.faults.proxy import FaultProxy
from harness.faults.scenario_faults import assert_no_live_job
from harness.scenario import ScenarioRun
from harness.services.kind import DisruptableService
from harness.subjects import ProcessSubject, ServiceSubject

REQUEST_TIMEOUT = 2.0  # the subject's, so that a short freeze outlasts it
FREEZE_SECONDS = 4 * REQUEST_TIMEOUT
# Retry pauses from 50 ms up to 1 s, not 0.5 s up to 10 s: the sync is not left sleeping
# out a long backoff once the cluster answers again (the outage itself is the test).
QUICK_RETRY = {
    "CONNECTORS_ES_RETRY_BACKOFF_SECONDS": "0.05",
    "CONNECTORS_ES_RETRY_BACKOFF_CAP_SECONDS": "1",
}

PrivateService = Callable[[str], DisruptableService]


def _tail(path: Path) -> Callable[[], str]:
    return lambda: path.read_text(errors="replace")[-3000:] if path.exists() else ""


class CrashSuite:
    @requires("faults")
    @pytest.mark.disrupts("elasticsearch")
    def test_elasticsearch_frozen_past_the_request_timeout_is_waited_out(
        self, run: ScenarioRun, fault_corpus_size: str, private_service: PrivateService
    ) -> None:
        es = private_service("elasticsearch")
        run.fixture.load(fault_corpus_size)
        timeout = {"CONNECTORS_ES_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT), **QUICK_RETRY}
        with _part_way_on(run, es, timeout) as (sync, source, written):
            es.pause()
            try:
                source.release()  # the sync writes on, into a cluster that answers nothing
                hold(FREEZE_SECONDS)
            finally:
                es.resume()
            resumed = time.monotonic()
            outcome = sync.result()
            assert sync.ended_at > resumed, "the sync ended while the cluster was frozen"
            assert outcome.ok, f"a sync failed over a {FREEZE_SECONDS:.0f}s freeze: {outcome.error}"
            run.note(
                written_before=f"{written}/{run.fixture.expected_count()}",
                frozen_s=FREEZE_SECONDS,
                bulk_retries=outcome.counts.get("bulk_retries", "?"),
                done_after_resume_s=round(sync.ended_at - resumed, 1),
            )
            self._assert_converged(run)

    @requires("faults")
    @pytest.mark.disrupts("elasticsearch")
    def test_elasticsearch_killed_and_restarted_mid_sync_loses_nothing(
        self, run: ScenarioRun, fault_corpus_size: str, private_service: PrivateService
    ) -> None:
        es = private_service("elasticsearch")
        run.fixture.load(fault_corpus_size)
        with _part_way_on(run, es, QUICK_RETRY) as (sync, source, acknowledged):
            killed = time.monotonic()
            es.kill()
            source.release()  # the sync writes on, into a cluster that is gone
            es.restart()
            follow(run, es)
            restarted = time.monotonic() - killed
            outcome = sync.result()
            assert outcome.ok, f"a sync failed over an Elasticsearch restart: {outcome.error}"
            run.note(
                written_before=f"{acknowledged}/{run.fixture.expected_count()}",
                restart_s=round(restarted, 1),
                bulk_retries=outcome.counts.get("bulk_retries", "?"),
                sync_after_kill_s=round(sync.ended_at - killed, 1),
            )
            self._assert_converged(run)

    @requires("faults")
    def test_a_sync_killed_mid_sync_is_given_up_and_the_next_converges(
        self, run: ScenarioRun, fault_corpus_size: str, tmp_path: Path
    ) -> None:
        subject = run.subject
        if not isinstance(subject, ProcessSubject):
            pytest.skip(f"the {subject.name} subject offers no sync process to kill (start())")
        run.fixture.load(fault_corpus_size)
        log_path = tmp_path / "sync.log"
        with slow_source(run) as (source, configuration), subject_env(run, **quick_lease()):
            with log_path.open("a") as log:
                process = subject.start(run.spec(configuration), log)
                try:
                    written = wait_mid_sync(
                        run, lambda: process.poll() is None, _tail(log_path), source
                    )
                finally:
                    process.kill()
                    process.wait(60)
            source.release()
            abandoned = [j["id"] for j in jobs_of(run) if j["status"] == "in_progress"]
            until(lambda: lease_expired(run), 60, "the killed sync's lease to expire")
            run.sync(configuration=configuration)
        self._assert_converged(run)
        if subject.records_jobs:
            assert len(abandoned) == 1, f"a killed sync left {abandoned} in progress"
            ended = {j["id"]: j for j in jobs_of(run)}[abandoned[0]]
            assert ended["status"] == "error" and "lost" in (ended.get("error") or ""), (
                f"the killed sync's job is {ended['status']} ({ended.get('error')}): "
                "it must be ended as lost"
            )
        run.note(written_before_kill=f"{written}/{run.fixture.expected_count()}")

    @requires("faults")
    def test_a_service_stopped_mid_job_suspends_it_and_the_next_resumes_it(
        self, run: ScenarioRun, fault_corpus_size: str, tmp_path: Path
    ) -> None:
        subject = run.subject
        if not isinstance(subject, ServiceSubject):
            pytest.skip(f"the {subject.name} subject offers no service to stop (start_service())")
        run.fixture.load(fault_corpus_size)
        log_path = tmp_path / "service.log"
        job = "queued" + run.connector_id[-16:].replace("-", "0")
        with slow_source(run) as (source, configuration), log_path.open("a") as log:
            spec = run.spec(configuration)
            first = subject.start_service(spec, log)
            try:
                subject.queue_job(spec, job)
                written = wait_mid_sync(
                    run, lambda: _running(run, job, first), _tail(log_path), source
                )
                first.send_signal(signal.SIGTERM)
                # Released once the service has taken the signal in: released at once, a
                # loaded machine let the sync read on and complete before the handler ran
                # (the source is held short of its last batch by wait_mid_sync). A subject
                # whose service says nothing we know of is released at once.
                heard = getattr(subject, "stop_heard", None)
                if heard:
                    until(lambda: heard in log_path.read_text(errors="replace"), 60,
                          "the service to take in SIGTERM", _tail(log_path))  # fmt: skip
                source.release()  # it stops at the next batch it reads
                code = first.wait(60)
            finally:
                stop_process(first)
            assert code == 0, f"the service exited {code} on SIGTERM\n{_tail(log_path)()}"
            assert job_status(run, job) == "suspended", job_status(run, job)
            second = subject.start_service(spec, log)
            try:
                until(
                    lambda: job_status(run, job) in ("completed", "error", "canceled"),
                    300,
                    "the next service run to finish the suspended job",
                    _tail(log_path),
                )
                ended = job_status(run, job)
            finally:
                stop_process(second)
        assert ended == "completed", f"the resumed job ended {ended}\n{_tail(log_path)()}"
        after = job_status(run, job)
        assert after == ended, (
            f"stopping the service after job {job} had ended rewrote its status: {ended} -> "
            f"{after}; an ended job's status is final, or the next run redoes it"
        )
        self._assert_converged(run)
        run.note(written_before_sigterm=f"{written}/{run.fixture.expected_count()}")

    @staticmethod
    def _assert_converged(run: ScenarioRun) -> None:
        run.assert_index_matches()
        run.assert_job(status="completed")
        assert_no_live_job(run)


@contextmanager
def _part_way_on(
    run: ScenarioRun, es: DisruptableService, env: dict[str, str] | None = None
) -> Iterator[tuple[BackgroundSync, FaultProxy, int]]:
    """A sync on ``es``, held part-way at its source: (the sync, the source, how many
    documents it wrote)."""
    with (
        on_elasticsearch(run, es),
        slow_source(run) as (source, configuration),
        subject_env(run, **(env or {})),
    ):
        sync = BackgroundSync(run, configuration)
        written = wait_mid_sync(run, sync.running, es.log_tail, source)
        yield sync, source, written


def _running(run: ScenarioRun, job: str, service: subprocess.Popen[str]) -> bool:
    return service.poll() is None and job_status(run, job) in ("pending", "in_progress")
