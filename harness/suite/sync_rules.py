"""Sync rules (capability ``sync_rules``): each rule the fixture declares gives exactly the
documents it selects, switching rules deletes what the new one leaves out, and a wrong rule
is refused by name with nothing deleted.

A fixture states what each rule selects by its own predicate over the expected documents,
never by calling the connector's code: the truth is written twice, independently."""

from __future__ import annotations

from harness.capabilities import SyncRules, requires
from harness.checks.assertions import assert_index_matches_source
from harness.scenario import ScenarioRun


class RulesSuite:
    @requires("sync_rules")
    def test_each_sync_rule_selects_exactly_its_documents(self, run: ScenarioRun) -> None:
        """Rules applied in turn on one index: each sync adds what its rule takes and
        deletes what it leaves out, then no rule brings every document back."""
        run.fixture.load("tiny")
        run.fixture.load_edge_cases()
        run.sync()
        run.assert_index_matches()
        for case in run.able(SyncRules).rule_cases():
            # A rule that leaves most documents out is the user's choice, not a source that
            # lost them: the mass-delete guard is overridden, as the user would.
            configuration = run.fixture.configuration() | case.configuration
            run.sync(
                configuration=configuration,
                allow_mass_delete=True,
                basic_rules=case.basic_rules,
            )
            chosen = [(i, d) for i, d in run.fixture.expected_docs() if case.selects(i, d)]
            assert chosen, f"rule {case.name!r} selects no document of the corpus: a weak case"
            assert len(chosen) < run.fixture.expected_count(), (
                f"rule {case.name!r} selects every document of the corpus: a weak case"
            )
            try:
                assert_index_matches_source(
                    run.es, run.index, chosen, run.scenario.ignore_fields,
                    run.reader(configuration),
                )  # fmt: skip
            except AssertionError as exc:
                raise AssertionError(f"under rule {case.name!r}: {exc}") from None
        run.sync()
        run.assert_index_matches()

    @requires("sync_rules")
    def test_a_wrong_rule_is_refused_by_name_and_deletes_nothing(self, run: ScenarioRun) -> None:
        run.fixture.load("tiny")
        run.sync()
        indexed = run.index_count()
        for case in run.able(SyncRules).invalid_rules():
            before = run.write_stats()
            outcome = run.sync(
                configuration=run.fixture.configuration() | case.configuration,
                expect_ok=False,
                basic_rules=case.basic_rules,
            )
            assert not outcome.ok, f"a sync under the wrong rule {case.name!r} reported success"
            deleted = run.write_stats()[1] - before[1]
            assert deleted == 0, f"the wrong rule {case.name!r} still deleted {deleted} documents"
            missing = [w for w in case.words if w not in (outcome.error or "")]
            assert not missing, (
                f"the error for the wrong rule {case.name!r} must name {missing}: {outcome.error}"
            )
        assert run.index_count() == indexed
