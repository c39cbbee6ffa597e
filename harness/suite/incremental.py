"""Incremental edge cases: rows committed later at exactly the stored cursor value (a
concurrent writer), and a failed incremental sync, which must leave the cursor where it
was so that the next one picks up every change. (Rows stored in an order unrelated to the
cursor's are in every corpus: fixtures/items.py scrambles the cursor within a round.)"""

from __future__ import annotations

from typing import Any

import pytest

from harness.scenario import ScenarioRun
from harness.services.es_http import es_request

requires = pytest.mark.requires


def stored_cursor(run: ScenarioRun) -> Any:
    found = es_request(run.es, "GET", f"/.elastic-connectors/_doc/{run.connector_id}")
    return found["_source"].get("sync_cursor")


class IncrementalEdgeSuite:
    @requires("incremental")
    def test_rows_committed_later_at_the_cursor_value_are_picked_up(self, run: ScenarioRun) -> None:
        run.fixture.load("tiny")
        run.sync()
        run.sync("incremental")
        change = run.fixture.insert_at_latest_cursor(3)
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
