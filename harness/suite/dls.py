"""Document-level security, judged per user (capability ``dls``): after a full sync and an
access-control sync, every seeded user searches the content index through their identity's
filter, as a search application would, and sees exactly the documents the source lets them
read -- no leak, no miss. Then a restriction and a group membership change, both syncs run
again, and what each user sees follows.

The fixture gives the truth from the source's own model (``visible_ids``), never from the
connector; the filter is the identity document's own template (harness/checks/dls.py)."""

from __future__ import annotations

from typing import Any

from harness.capabilities import Dls, requires
from harness.checks.dls import ACL_INDEX_PREFIX, TemplateError, identities, visible_ids
from harness.checks.index_reader import IndexReader
from harness.scenario import ScenarioRun

SHOWN = 4  # ids named per problem


def _ids(ids: set[str]) -> str:
    shown = sorted(ids)[:SHOWN]
    return ", ".join(shown) + (f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else "")


def dls_problems(run: ScenarioRun) -> list[str]:
    """Everything wrong with what each user sees, each named with the user and the ids."""
    truth: dict[str, set[str]] = run.able(Dls).visible_ids()
    expected_ids = {doc_id for doc_id, _ in run.fixture.expected_docs()}
    content = set(IndexReader(run.es, run.index).ids())
    problems = []
    if content != expected_ids:
        extra, missing = content - expected_ids, expected_ids - content
        problems.append(
            f"the content index {run.index!r} holds {len(extra)} documents the source does "
            f"not ({_ids(extra)}) and lacks {len(missing)} ({_ids(missing)}); identities "
            "belong in " + ACL_INDEX_PREFIX + run.index
        )
    found = identities(run.es, run.index)
    if set(found) != set(truth):
        problems.append(
            f"{ACL_INDEX_PREFIX}{run.index} has identities for {_ids(set(found) - set(truth))} "
            f"who are not users, and none for {_ids(set(truth) - set(found))}"
        )
    for user, allowed in sorted(truth.items()):
        if user not in found:
            continue
        try:
            seen = visible_ids(run.es, run.index, found[user])
        except TemplateError as exc:
            problems.append(f"user {user}: {exc}")
            continue
        if seen - allowed:
            problems.append(f"LEAK: user {user} sees {len(seen - allowed)} documents they "
                            f"may not read: {_ids(seen - allowed)}")  # fmt: skip
        if allowed - seen:
            problems.append(f"MISS: user {user} cannot see {len(allowed - seen)} documents "
                            f"they may read: {_ids(allowed - seen)}")  # fmt: skip
    return problems


def _sync_both(run: ScenarioRun, configuration: dict[str, Any]) -> None:
    run.sync(configuration=configuration)
    run.sync("access_control", configuration=configuration)


class DlsSuite:
    @requires("dls")
    def test_every_user_sees_exactly_what_they_may_read_before_and_after_a_change(
        self, run: ScenarioRun
    ) -> None:
        run.fixture.load("tiny")
        run.fixture.load_edge_cases()
        configuration = run.able(Dls).dls_configuration()
        _sync_both(run, configuration)
        run.assert_job(job_type="access_control")
        before = run.able(Dls).visible_ids()
        assert len({frozenset(ids) for ids in before.values()}) > 2, (
            "the corpus gives fewer than three distinct views: a weak case for DLS"
        )
        problems = dls_problems(run)
        assert not problems, "after the first syncs: " + "; ".join(problems)

        change = run.able(Dls).change_access()
        after = run.able(Dls).visible_ids()
        moved = sorted(user for user in after if after[user] != before.get(user))
        assert len(moved) >= 2, f"the change ({change}) moved what only {moved} see: weak case"
        _sync_both(run, configuration)
        problems = dls_problems(run)
        assert not problems, f"after the change ({change}): " + "; ".join(problems)
