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

from harness.capabilities import ExactRevert, TablePrivileges, requires
from harness.checks.config_refusals import assert_config_refusal
from harness.checks.index_reader import IndexReader
from harness.scenario import ConnectorScenario, ScenarioRun
from harness.suite.bad_configs import BadConfigSuite
from harness.suite.crashes import CrashSuite
from harness.suite.custom_queries import CustomQuerySuite
from harness.suite.dls import DlsSuite
from harness.suite.faults import FaultSuite
from harness.suite.incremental import IncrementalSuite
from harness.suite.pagination import ListingSuite
from harness.suite.saas import SaasSuite
from harness.suite.scope import ScopeSuite
from harness.suite.secrets import SecretSuite
from harness.suite.sync_rules import RulesSuite
from harness.suite.workers import WorkersSuite

# An unchanged re-sync of a connector with versions reads keys and versions, not documents:
# about a tenth of the bytes for the items corpus. Half leaves a wide margin for a correct
# connector and none for one that reads everything again.
RESYNC_READ_BOUND = 0.5


class StandardSuite(
    ScopeSuite,
    SecretSuite,
    IncrementalSuite,
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
        assert run.able(ExactRevert).change_and_revert(self.scenario.change_fraction) > 0
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
        table = run.able(TablePrivileges).revoke_read()
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
