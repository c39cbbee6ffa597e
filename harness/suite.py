"""The standard scenario suite. A connector inherits all of it by declaring itself:

    class TestPostgreSQL(StandardSuite):
        scenario = ConnectorScenario(connector="postgresql", service="postgresql",
                                     fixture=PostgresFixture, capabilities={"incremental"})

Each test names what it proves; each check names what went wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest

from harness.index_reader import IndexReader
from harness.scenario import ConnectorScenario, ScenarioRun

# An unchanged re-sync of a connector with versions reads keys and versions, not documents:
# about a tenth of the bytes for the items corpus. Half leaves a wide margin for a correct
# connector and none for one that reads everything again.
RESYNC_READ_BOUND = 0.5
# An incremental sync after 1% of changes reads those rows plus a fixed overhead.
INCREMENTAL_READ_BOUND = 0.2

requires = pytest.mark.requires  # @requires("incremental"): skipped, at collection, unless declared


class StandardSuite:
    scenario: ClassVar[ConnectorScenario]

    @pytest.fixture
    def run(self, scenario_run: ScenarioRun) -> Iterator[ScenarioRun]:
        yield scenario_run

    # -- full sync --------------------------------------------------------------------

    def test_full_sync(self, run: ScenarioRun, corpus_size: str) -> None:
        run.fixture.load(corpus_size)
        run.sync()
        run.assert_index_matches()
        run.assert_job(
            indexed_document_count=run.fixture.expected_count(),
            deleted_document_count=0,
            total_document_count=run.fixture.expected_count(),
        )

    def test_second_full_sync_writes_nothing(self, run: ScenarioRun, corpus_size: str) -> None:
        run.fixture.load(corpus_size)
        run.sync()
        before = run.write_stats()
        run.sync()
        run.assert_nothing_written_since(before)
        run.assert_job(indexed_document_count=0, deleted_document_count=0)
        run.assert_index_matches()

    def test_updates(self, run: ScenarioRun, corpus_size: str) -> None:
        run.fixture.load(corpus_size)
        run.sync()
        change = run.fixture.mutate(update=self.scenario.change_fraction)
        run.sync()
        run.assert_index_matches()
        run.assert_job(indexed_document_count=len(change.updated), deleted_document_count=0)

    def test_deletions(self, run: ScenarioRun, corpus_size: str) -> None:
        run.fixture.load(corpus_size)
        run.sync()
        change = run.fixture.mutate(delete=self.scenario.change_fraction)
        run.sync()
        run.assert_index_matches()
        run.assert_job(indexed_document_count=0, deleted_document_count=len(change.deleted))

    def test_inserts(self, run: ScenarioRun, corpus_size: str) -> None:
        run.fixture.load(corpus_size)
        run.sync()
        change = run.fixture.mutate(insert=self.scenario.change_fraction)
        run.sync()
        run.assert_index_matches()
        run.assert_job(indexed_document_count=len(change.inserted), deleted_document_count=0)

    def test_a_change_the_cursor_does_not_show_is_synced(
        self, run: ScenarioRun, corpus_size: str
    ) -> None:
        """One column of a wide row changes, the cursor column does not: a full sync
        compares content, so it must write exactly these rows."""
        run.fixture.load(corpus_size)
        run.sync()
        change = run.fixture.mutate_quietly(self.scenario.change_fraction)
        run.sync()
        run.assert_index_matches()
        run.assert_job(indexed_document_count=len(change.updated), deleted_document_count=0)

    def test_a_change_and_its_revert_write_nothing(
        self, run: ScenarioRun, corpus_size: str
    ) -> None:
        run.fixture.load(corpus_size)
        run.sync()
        assert run.fixture.change_and_revert(self.scenario.change_fraction) > 0
        before = run.write_stats()
        run.sync()
        run.assert_nothing_written_since(before)
        run.assert_job(indexed_document_count=0, deleted_document_count=0)

    def test_empty_source(self, run: ScenarioRun) -> None:
        run.fixture.load(0)
        run.sync()
        run.assert_index_matches()
        run.assert_job(indexed_document_count=0, total_document_count=0)

    def test_edge_case_table(self, run: ScenarioRun) -> None:
        run.fixture.load_edge_cases()
        run.sync()
        run.assert_index_matches()
        before = run.write_stats()
        run.sync()
        run.assert_nothing_written_since(before)
        # The same number written differently (1.0 -> 1.00) is a changed row: written once,
        # exactly, as the source now prints it.
        restyled = run.fixture.restyle_numeric()
        run.sync()
        run.assert_index_matches()
        run.assert_job(indexed_document_count=restyled, deleted_document_count=0)

    def test_identity_cases(self, run: ScenarioRun) -> None:
        """Keys and table names that break naive ids (separators, escapes, case, ':' in a
        name, '1' and 1, Unicode normalisation) each give exactly one document, and a
        re-sync still finds every table's changed rows."""
        run.fixture.load_identity_cases()
        run.sync()
        run.assert_index_matches()
        changed = run.fixture.change_identity_cases()
        run.sync()
        run.assert_index_matches()
        run.assert_job(indexed_document_count=changed, deleted_document_count=0)

    # -- efficiency as behaviour: bytes read from the source, not timings -------------

    @requires("versions")
    def test_an_unchanged_resync_reads_far_less_than_a_full_sync(
        self, run: ScenarioRun, corpus_size: str
    ) -> None:
        run.fixture.load(corpus_size)
        with run.counting_source_bytes() as (counter, configuration):
            run.sync(configuration=configuration)
            full, _ = counter.reset()
            run.sync(configuration=configuration)
            again, _ = counter.reset()
        assert again < full * RESYNC_READ_BOUND, (
            f"an unchanged re-sync read {again:,} bytes from the source, the full sync "
            f"{full:,} ({again / full:.0%}): it must read far less (ids and versions, not "
            f"documents; bound {RESYNC_READ_BOUND:.0%})"
        )
        run.assert_index_matches()

    @requires("incremental")
    def test_an_incremental_sync_reads_only_past_the_cursor(
        self, run: ScenarioRun, corpus_size: str
    ) -> None:
        run.fixture.load(corpus_size)
        with run.counting_source_bytes() as (counter, configuration):
            run.sync("incremental", configuration=configuration)
            everything, _ = counter.reset()
            run.fixture.mutate(update=0.01)
            run.sync("incremental", configuration=configuration)
            changes, _ = counter.reset()
        assert changes < everything * INCREMENTAL_READ_BOUND, (
            f"an incremental sync after 1% of changes read {changes:,} bytes from the "
            f"source, the first one {everything:,} ({changes / everything:.0%}): it must "
            f"read only rows past the cursor (bound {INCREMENTAL_READ_BOUND:.0%})"
        )
        run.assert_index_matches()

    # -- incremental ------------------------------------------------------------------

    @requires("incremental")
    def test_incremental_sync_picks_up_exactly_the_changes(
        self, run: ScenarioRun, corpus_size: str
    ) -> None:
        run.fixture.load(corpus_size)
        run.sync("incremental")
        run.assert_index_matches()
        change = run.fixture.mutate(
            update=self.scenario.change_fraction, insert=self.scenario.change_fraction
        )
        run.sync("incremental")
        run.assert_index_matches()
        run.assert_job(job_type="incremental", indexed_document_count=change.changed)
        before = run.write_stats()
        run.sync("incremental")
        run.assert_nothing_written_since(before)

    @requires("incremental")
    def test_cursor_from_the_future_yields_nothing(
        self, run: ScenarioRun, corpus_size: str
    ) -> None:
        if not run.subject.records_jobs:
            pytest.skip(f"subject {run.subject.name} keeps no connector state to hold a cursor")
        run.fixture.load(corpus_size)
        run.sync()
        run.fixture.mutate(update=self.scenario.change_fraction)
        run.set_cursor(run.fixture.future_cursor())
        before = run.write_stats()
        run.sync("incremental")
        run.assert_nothing_written_since(before)
        run.assert_job(job_type="incremental", indexed_document_count=0)

    # -- failures ---------------------------------------------------------------------

    def test_bad_config_fails_clearly_and_leaves_the_index_untouched(
        self, run: ScenarioRun
    ) -> None:
        run.fixture.load("tiny")
        run.sync()
        before = run.write_stats()
        outcome = run.sync(configuration=run.fixture.invalid_configuration(), expect_ok=False)
        assert not outcome.ok, "a sync with an invalid configuration reported success"
        unnamed = [f for f in run.fixture.invalid_fields if f not in (outcome.error or "")]
        assert not unnamed, f"the error does not name the bad fields {unnamed}: {outcome.error!r}"
        run.assert_nothing_written_since(before)
        run.assert_index_matches()

    def test_unreachable_source_fails_clearly(self, run: ScenarioRun) -> None:
        run.fixture.load("tiny")
        run.sync()
        before = run.write_stats()
        unreachable = run.fixture.unreachable_configuration()
        outcome = run.sync(configuration=unreachable, expect_ok=False)
        assert not outcome.ok, "a sync from an unreachable source reported success"
        where = run.fixture.unreachable_location(unreachable)
        assert outcome.error and where in outcome.error, (
            f"the error does not say where it tried to connect ({where}): {outcome.error!r}"
        )
        run.assert_nothing_written_since(before)
        run.assert_job(status="error")

    @requires("table_privileges")
    def test_an_unreadable_table_fails_the_sync_and_deletes_nothing(
        self, run: ScenarioRun, corpus_size: str
    ) -> None:
        run.fixture.load(corpus_size)
        run.fixture.load_edge_cases()
        run.sync()
        before = run.write_stats()
        table = run.fixture.revoke_read()
        outcome = run.sync(expect_ok=False)
        deleted = run.write_stats()[1] - before[1]
        problems = []
        if deleted:
            problems.append(
                f"{deleted} documents were deleted because {table} could not be read: a "
                "table without read access is not a table without rows"
            )
        if outcome.ok:
            problems.append(f"a sync that could not read {table} reported success")
        elif not (outcome.error and table in outcome.error and "SELECT" in outcome.error):
            problems.append(
                f"the error does not name the table {table} and the SELECT privilege: "
                f"{outcome.error!r}"
            )
        assert not problems, "; ".join(problems)
        run.assert_job(status="error")
        run.assert_index_matches()

    def test_a_failed_read_deletes_nothing(self, run: ScenarioRun, corpus_size: str) -> None:
        run.fixture.load(corpus_size)
        run.sync()
        expected_before = run.fixture.expected_count()
        run.fixture.mutate(delete=self.scenario.change_fraction)
        run.fixture.poison()
        before = run.write_stats()
        outcome = run.sync(expect_ok=False)
        deleted = run.write_stats()[1] - before[1]
        problems = []
        if deleted:
            problems.append(
                f"a failed read deleted {deleted} documents: stale deletion must "
                "only follow a complete read"
            )
        if outcome.ok:
            problems.append("a sync whose read failed part-way reported success")
        assert not problems, "; ".join(problems)
        assert IndexReader(run.es, run.index).count() == expected_before
