"""Incremental sync (capability ``incremental``): exactly the changes, and only they read
from the source; a cursor from the future; rows committed later at exactly the stored
cursor value (a concurrent writer); and a failed incremental sync, which must leave the
cursor where it was so that the next one picks up every change. (Rows stored in an order
unrelated to the cursor's are in every corpus: fixtures/items.py scrambles the cursor
within a round.)"""

from __future__ import annotations

from typing import Any

import pytest

from harness import state_index
from harness.capabilities import Incremental, requires
from harness.scenario import ScenarioRun
from harness.services.es_http import es_request

# An incremental sync reads the changed rows plus a fixed overhead (plan discovery): its
# bytes, as a share of a first sync's, may be at most 3x the changed share plus 10%.
INCREMENTAL_READ_MARGIN = 3
INCREMENTAL_READ_OVERHEAD = 0.1


def stored_cursor(run: ScenarioRun) -> Any:
    found = es_request(run.es, "GET", state_index.connector_doc(run.connector_id))
    return found["_source"].get("sync_cursor")


class IncrementalSuite:
    @requires("incremental")
    def test_incremental_sync_picks_up_exactly_the_changes(
        self, run: ScenarioRun, corpus_size: str
    ) -> None:
        """Exactly the changed rows (the row the cursor stands on among them), then nothing,
        twice; and only they are read from the source (bytes through a counting proxy)."""
        run.fixture.load(corpus_size)
        fraction = run.scenario.change_fraction
        with run.counting_source_bytes() as (counter, configuration):
            run.sync("incremental", configuration=configuration)
            run.assert_index_matches()
            everything, _ = counter.reset()
            change = run.fixture.mutate(update=fraction, insert=fraction)
            run.sync("incremental", configuration=configuration)
            changes, _ = counter.reset()
            run.assert_index_matches()
            run.assert_job(job_type="incremental", indexed_document_count=change.changed)
            before = run.write_stats()
            for _ in range(2):  # the second one starts from the cursor an empty one left
                run.sync("incremental", configuration=configuration)
            run.assert_nothing_written_since(before)
        bound = INCREMENTAL_READ_MARGIN * 2 * fraction + INCREMENTAL_READ_OVERHEAD
        assert changes < everything * bound, (
            f"an incremental sync after {2 * fraction:.0%} of rows changed read "
            f"{changes:,} bytes from the source, the first one {everything:,} "
            f"({changes / everything:.0%}): it must read only rows past the cursor "
            f"(bound {bound:.0%})"
        )

    @requires("incremental")
    def test_cursor_from_the_future_yields_nothing(
        self, run: ScenarioRun, corpus_size: str
    ) -> None:
        if not run.subject.records_jobs:
            pytest.skip(f"subject {run.subject.name} keeps no connector state to hold a cursor")
        run.fixture.load(corpus_size)
        run.sync()
        run.fixture.mutate(update=run.scenario.change_fraction)
        run.set_cursor(run.fixture.future_cursor())
        before = run.write_stats()
        run.sync("incremental")
        run.assert_nothing_written_since(before)
        run.assert_job(job_type="incremental", indexed_document_count=0)

    @requires("incremental")
    def test_rows_committed_later_at_the_cursor_value_are_picked_up(self, run: ScenarioRun) -> None:
        run.fixture.load("tiny")
        run.sync()
        run.sync("incremental")
        change = run.able(Incremental).insert_at_latest_cursor(3)
        run.sync("incremental")
        run.assert_index_matches()
        run.assert_job(job_type="incremental", indexed_document_count=len(change.inserted))
        run.sync("incremental")
        run.assert_job(job_type="incremental", indexed_document_count=0)

    @requires("incremental")
    def test_a_failed_incremental_sync_leaves_the_cursor_and_the_next_catches_up(
        self, run: ScenarioRun
    ) -> None:
        run.fixture.load("tiny")
        run.sync()
        run.sync("incremental")
        before = stored_cursor(run) if run.subject.records_jobs else None
        change = run.fixture.mutate(update=0.1, insert=0.05)
        run.fixture.poison()
        outcome = run.sync("incremental", expect_ok=False)
        assert not outcome.ok, "an incremental sync whose read failed reported success"
        if run.subject.records_jobs:
            run.assert_job(status="error", job_type="incremental")
            after = stored_cursor(run)
            assert after == before, (
                "a failed incremental sync moved the stored cursor: rows it did not read "
                f"would never be synced (before: {before!r}, after: {after!r})"
            )
        run.fixture.cure()
        run.sync("incremental")
        run.assert_index_matches()
        run.assert_job(job_type="incremental", indexed_document_count=change.changed)
