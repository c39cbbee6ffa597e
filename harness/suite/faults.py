"""Fault scenarios of the standard suite: the sync under a busy, flaky or cut-off cluster
and source, and concurrent syncs. Each ends on the invariants of the anchors in this field:
the exact document set (no loss, no duplicate), the right job status and counts, and no
job left unfinished. Capability ``faults``; size ``--faults SIZE`` (default tiny)."""

from __future__ import annotations

import threading

from harness.capabilities import requires
from harness.faults.disruption import subject_env
from harness.faults.scenario_faults import (
    abandon_a_job,
    assert_no_live_job,
    es_behind_proxy,
    source_behind_proxy,
)
from harness.scenario import ScenarioRun
from harness.subjects import SyncOutcome

NOT_BULK = r"^[A-Z]+ /(?!_bulk)"
# Each injected answer is retried once: a first pause of 50 ms, not the default 0.5 s,
# proves the same and spares the suite about 15 s of sleeping (subjects that do not read
# the variable keep their own pace).
QUICK_RETRY = {"CONNECTORS_ES_RETRY_BACKOFF_SECONDS": "0.05"}


class FaultSuite:
    @requires("faults")
    def test_bulk_storms_lose_and_duplicate_nothing(
        self, run: ScenarioRun, fault_corpus_size: str
    ) -> None:
        """429, 503, and an answer cut after Elasticsearch applied the batch: retried, and
        re-sent under the same ids."""
        run.fixture.load(fault_corpus_size)
        with es_behind_proxy(run) as proxy, subject_env(run, **QUICK_RETRY):
            proxy.fail(r"/_bulk", 429, limit=1)
            proxy.fail(r"/_bulk", 503, limit=1)
            proxy.cut(r"/_bulk", limit=1)
            run.sync()
        assert sum(proxy.stats.faults.values()) == 3, f"faults injected: {proxy.stats.faults}"
        run.note(faults=dict(proxy.stats.faults), bulk_retries=_retries(run))
        run.assert_index_matches()
        run.assert_job(status="completed", indexed_document_count=run.fixture.expected_count())
        assert_no_live_job(run)

    @requires("faults")
    def test_items_a_bulk_answer_refuses_are_resent_and_only_they(
        self, run: ScenarioRun, fault_corpus_size: str
    ) -> None:
        """A mixed bulk answer, as a busy cluster gives: most items 201, every third 429 and
        every seventh 503. Exactly the refused items are re-sent, under their own ids; an
        accepted one is never sent again, and the job counts each document once."""
        run.fixture.load(fault_corpus_size)
        expected = run.fixture.expected_count()
        with es_behind_proxy(run) as proxy, subject_env(run, **QUICK_RETRY):
            proxy.refuse_items(r"/_bulk", 429, every=3, limit=max(3, expected // 4))
            proxy.refuse_items(r"/_bulk", 503, every=7, limit=max(2, expected // 10))
            run.sync()
        faults = dict(proxy.stats.faults)
        assert faults.get("item 429") and faults.get("item 503"), f"items refused: {faults}"
        run.note(items_refused=faults, bulk_retries=_retries(run))
        twice = {i: n for i, n in proxy.stats.bulk_ids.items() if n > 1}
        assert not twice, (
            f"{len(twice)} documents were sent again after Elasticsearch had accepted them, "
            f"e.g. {sorted(twice)[:3]}: only the refused items of an answer are to be re-sent"
        )
        run.assert_index_matches()
        run.assert_job(status="completed", indexed_document_count=expected)
        assert_no_live_job(run)

    @requires("faults")
    def test_every_kind_of_state_request_survives_503(
        self, run: ScenarioRun, fault_corpus_size: str
    ) -> None:
        """Job claim, heartbeat, index scan, refresh, count: every other request but _bulk
        answered 503."""
        run.fixture.load(fault_corpus_size)
        run.sync()
        run.fixture.mutate(update=run.scenario.change_fraction, delete=run.scenario.change_fraction)
        with es_behind_proxy(run) as proxy, subject_env(run, **QUICK_RETRY):
            proxy.fail(NOT_BULK, 503, every=2)
            run.sync()
        assert proxy.stats.faults["503"] >= 5, f"too few faults to mean much: {proxy.stats}"
        run.note(answered_503=proxy.stats.faults["503"], requests=proxy.stats.requests)
        run.assert_index_matches()
        run.assert_job(status="completed")
        assert_no_live_job(run)

    @requires("faults")
    def test_a_source_connection_cut_mid_read_fails_cleanly_then_converges(
        self, run: ScenarioRun, fault_corpus_size: str
    ) -> None:
        run.fixture.load(fault_corpus_size)
        run.sync()
        expected_before = run.fixture.expected_count()
        run.fixture.mutate(delete=run.scenario.change_fraction)
        with source_behind_proxy(run) as (proxy, configuration):
            proxy.cut_after(bytes_down=4_000)
            before = run.write_stats()
            outcome = run.sync(configuration=configuration, expect_ok=False)
            deleted = run.write_stats()[1] - before[1]
            assert proxy.stats.connections_cut, "the read finished before the cut: corpus too small"
            if outcome.ok:
                # Recovered: an HTTP source may ask again for a response the cut dropped
                # whole. Then the sync must have read everything: the index is exact.
                run.assert_index_matches()
                run.note(connections_cut=proxy.stats.connections_cut, recovered=1)
            else:
                assert deleted == 0, f"a sync cut off from its source deleted {deleted} documents"
                run.assert_job(status="error")
                assert run.index_count() == expected_before
                run.note(
                    connections_cut=proxy.stats.connections_cut, deleted_by_failed_sync=deleted
                )
            run.sync(configuration=configuration)
        run.assert_index_matches()
        assert_no_live_job(run)

    @requires("faults")
    def test_two_syncs_of_one_connector_at_once_write_everything_once(
        self, run: ScenarioRun, fault_corpus_size: str
    ) -> None:
        run.fixture.load(fault_corpus_size)
        outcomes: list[SyncOutcome] = []
        crashes: list[BaseException] = []
        start = threading.Barrier(2)
        # A slow source keeps both syncs reading at once: without a lease, both would
        # load an empty snapshot and write every row.
        with source_behind_proxy(run) as (proxy, configuration):
            proxy.latency(0.05)
            self._run_together(run, configuration, outcomes, crashes, start)
        self._judge_together(run, outcomes, crashes)

    @staticmethod
    def _run_together(
        run: ScenarioRun,
        configuration: dict[str, object],
        outcomes: list[SyncOutcome],
        crashes: list[BaseException],
        start: threading.Barrier,
    ) -> None:
        def one() -> None:
            start.wait(60)
            try:
                outcomes.append(run.sync(configuration=configuration, expect_ok=False))
            except BaseException as exc:  # reported below, with the other sync's outcome
                crashes.append(exc)

        threads = [threading.Thread(target=one) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)

    @staticmethod
    def _judge_together(
        run: ScenarioRun, outcomes: list[SyncOutcome], crashes: list[BaseException]
    ) -> None:
        assert not crashes, (
            f"a sync crashed while the other ran: {crashes!r} (the other: {outcomes}); "
            "one sync per connector must run at a time"
        )
        assert len(outcomes) == 2 and any(o.ok for o in outcomes), outcomes
        refused = [o for o in outcomes if not o.ok]
        for o in refused:
            assert "is being synced by job" in (o.error or ""), (
                f"the second sync failed for another reason than the first one running: {o.error}"
            )
        written = sum(o.counts.get("indexed", 0) for o in outcomes)
        run.note(refused=len(refused), written=written)
        assert written == run.fixture.expected_count(), (
            f"two concurrent syncs wrote {written} documents for "
            f"{run.fixture.expected_count()} rows: one sync per connector must run at a time"
        )
        run.assert_index_matches()
        assert_no_live_job(run)

    @requires("faults")
    def test_a_job_abandoned_by_a_dead_worker_is_given_up(self, run: ScenarioRun) -> None:
        """A worker killed mid-sync leaves its job in progress under an expired lease: the
        next sync must end that job as lost, and then run."""
        run.fixture.load("tiny")
        run.sync()
        abandon_a_job(run)
        run.sync()
        run.assert_index_matches()
        assert_no_live_job(run)


def _retries(run: ScenarioRun) -> object:
    outcome = run.last_outcome
    return outcome.counts.get("bulk_retries", "?") if outcome is not None else "?"
