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

from harness.bad_config_suite import BadConfigSuite
from harness.config_checks import assert_config_refusal
from harness.crash_suite import CrashSuite
from harness.custom_query_suite import CustomQuerySuite
from harness.dls_suite import DlsSuite
from harness.fault_suite import FaultSuite
from harness.incremental_suite import IncrementalEdgeSuite
from harness.index_reader import IndexReader
from harness.listing_suite import ListingSuite
from harness.rules_suite import RulesSuite
from harness.saas_suite import SaasSuite
from harness.scenario import ConnectorScenario, ScenarioRun
from harness.scope_suite import ScopeSuite
from harness.secret_suite import SecretSuite
from harness.workers_suite import WorkersSuite

# An unchanged re-sync of a connector with versions reads keys and versions, not documents:
# about a tenth of the bytes for the items corpus. Half leaves a wide margin for a correct
# connector and none for one that reads everything again.
RESYNC_READ_BOUND = 0.5
# An incremental sync reads the changed rows plus a fixed overhead (plan discovery): its
# bytes, as a share of a first sync's, may be at most 3x the changed share plus 10%.
INCREMENTAL_READ_MARGIN = 3
INCREMENTAL_READ_OVERHEAD = 0.1

requires = pytest.mark.requires  # @requires("incremental"): skipped, at collection, unless declared


class StandardSuite(
    ScopeSuite,
    SecretSuite,
    IncrementalEdgeSuite,
    RulesSuite,
    ListingSuite,
    SaasSuite,
    DlsSuite,
    FaultSuite,
    CrashSuite,
    WorkersSuite,
    BadConfigSuite,
    CustomQuerySuite,
):
    scenario: ClassVar[ConnectorScenario]

    @pytest.fixture
    def run(self, scenario_run: ScenarioRun) -> Iterator[ScenarioRun]:
        yield scenario_run

    # -- full sync --------------------------------------------------------------------

    def test_full_sync(self, run: ScenarioRun, corpus_size: str) -> None:
        run.fixture.load(corpus_size)
        run.sync()
        run.assert_index_matches()
        run.assert_read(run.fixture.expected_count())
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

    def test_changes_the_cursor_does_not_show(self, run: ScenarioRun) -> None:
        """One column of a wide row changes and the cursor column does not: a full sync
        compares content, so it writes exactly these rows."""
        run.fixture.load("tiny")
        run.sync()
        change = run.fixture.mutate_quietly(self.scenario.change_fraction)
        run.sync()
        run.assert_index_matches()
        run.assert_job(indexed_document_count=len(change.updated), deleted_document_count=0)

    @requires("exact_revert")
    def test_a_change_and_its_revert_write_nothing(self, run: ScenarioRun) -> None:
        """Rows change and change back (A -> B -> A) between two syncs: nothing to write.
        (A source that stamps every write, as S3 does, cannot be put back exactly.)"""
        run.fixture.load("tiny")
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

    def test_edge_cases(self, run: ScenarioRun) -> None:
        """Values connectors get wrong (every documented type and its limits, dates and
        times around midnight and DST) and keys and names that break naive ids (separators,
        escapes, case, ':' in a table name, '1' and 1, Unicode normalisation): each row is
        one document with exactly its value. A second sync writes nothing; then a changed
        row in every identity table, and 1.0 -> 1.00 (the same number, printed otherwise),
        are written exactly once each."""
        run.fixture.load_edge_cases()
        run.fixture.load_identity_cases()
        run.sync()
        run.assert_index_matches()
        before = run.write_stats()
        run.sync()
        run.assert_nothing_written_since(before)
        changed = run.fixture.restyle_numeric() + run.fixture.change_identity_cases()
        run.sync()
        run.assert_index_matches()
        run.assert_job(indexed_document_count=changed, deleted_document_count=0)

    # -- efficiency as behaviour: bytes read from the source, not timings -------------

    @requires("versions")
    def test_an_unchanged_resync_reads_far_less_than_a_full_sync(self, run: ScenarioRun) -> None:
        run.fixture.load("tiny")
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

    # -- incremental ------------------------------------------------------------------

    @requires("incremental")
    def test_incremental_sync_picks_up_exactly_the_changes(
        self, run: ScenarioRun, corpus_size: str
    ) -> None:
        """Exactly the changed rows (the row the cursor stands on among them), then nothing,
        twice; and only they are read from the source (bytes through a counting proxy)."""
        run.fixture.load(corpus_size)
        fraction = self.scenario.change_fraction
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
        invalid = run.fixture.invalid_configuration()
        outcome = run.sync(configuration=invalid, expect_ok=False)
        assert not outcome.ok, "a sync with an invalid configuration reported success"
        assert_config_refusal(outcome, run.fixture.invalid_fields, run.fixture.misspellings)
        run.assert_no_secret_leak(outcome, invalid)
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
        run.assert_no_secret_leak(outcome, unreachable)

    @requires("table_privileges")
    def test_an_unreadable_table_fails_the_sync_and_deletes_nothing(self, run: ScenarioRun) -> None:
        run.fixture.load("tiny")
        run.fixture.load_edge_cases()
        run.sync()
        table = run.fixture.revoke_read()
        outcome, deleted = run.failing_sync()
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
        run.assert_no_secret_leak(outcome)
        run.assert_index_matches()

    def test_a_failed_read_deletes_nothing(self, run: ScenarioRun, corpus_size: str) -> None:
        run.fixture.load(corpus_size)
        run.sync()
        expected_before = run.fixture.expected_count()
        run.fixture.mutate(delete=self.scenario.change_fraction)
        words = run.fixture.poison()
        outcome, deleted = run.failing_sync()
        problems = []
        if deleted:
            problems.append(
                f"a failed read deleted {deleted} documents: stale deletion must "
                "only follow a complete read"
            )
        if outcome.ok:
            problems.append("a sync whose read failed part-way reported success")
        elif missing := [w for w in words if w not in (outcome.error or "")]:
            problems.append(f"the error does not say {missing}: {outcome.error!r}")
        assert not problems, "; ".join(problems)
        run.assert_no_secret_leak(outcome)
        assert IndexReader(run.es, run.index).count() == expected_before
