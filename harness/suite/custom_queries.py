"""Custom queries only read, for every SQL connector (capability ``custom_query_safety``).

A custom query is text the connector embeds in its own statements, so its author can try to
close them and run anything. The fixture brings a catalogue of such break-outs in its own
dialect, at least one of every class in ``BREAK_OUT_CLASSES``, and a configuration that
connects as a user who could carry out every one of them: only the connector's own rules
stand in the way. Each is run as a custom query through the subject. After every one, the
database's inventory (its tables and their contents, sequences, routines, files the
server could write) must be what it was; a break-out marked ``refused`` must fail its sync,
naming the query; and no error may show the configuration's secrets."""

from __future__ import annotations

from typing import Any

from harness.capabilities import CustomQuerySafety, requires
from harness.cases import BreakOut
from harness.scenario import ScenarioRun

BREAK_OUT_CLASSES = (
    "write",
    "ddl",
    "several statements",
    "session made writable",
    "commit",
    "server file or program",
    "call",
    "side-effecting function",
    "locking read",
    "sequence",
)
QUERY_NAME = "break_out"


def break_out_spec(attempt: BreakOut) -> list[dict[str, Any]]:
    return [{"name": QUERY_NAME, "query": attempt.query, "id_columns": ["id"]}]


def inventory_change(before: Any, after: Any) -> str:
    if isinstance(before, dict) and isinstance(after, dict):
        keys = sorted(set(before) | set(after))
        changed = [k for k in keys if before.get(k) != after.get(k)]
        return "; ".join(f"{k}: {before.get(k)!r} -> {after.get(k)!r}" for k in changed)
    return f"{before!r} -> {after!r}"


class CustomQuerySuite:
    @requires("custom_query_safety")
    def test_a_custom_query_cannot_change_the_database(self, run: ScenarioRun) -> None:
        catalogue: list[BreakOut] = run.able(CustomQuerySafety).break_outs()
        untried = [kind for kind in BREAK_OUT_CLASSES if kind not in {b.kind for b in catalogue}]
        assert not untried, (
            f"the fixture's break_outs() tries no {untried}: every class must be tried"
        )
        problems = []
        before = run.able(CustomQuerySafety).inventory()
        for attempt in catalogue:
            configuration = run.able(CustomQuerySafety).privileged_configuration(
                break_out_spec(attempt)
            )
            outcome = run.sync(configuration=configuration, expect_ok=False, allow_mass_delete=True)
            after = run.able(CustomQuerySafety).inventory()
            if after != before:
                problems.append(
                    f"{attempt.kind}: {attempt.name!r} changed the database "
                    f"({inventory_change(before, after)})"
                )
                before = after
            if attempt.refused and (outcome.ok or QUERY_NAME not in (outcome.error or "")):
                problems.append(
                    f"{attempt.kind}: {attempt.name!r} was not refused naming the query "
                    f"{QUERY_NAME!r}: {outcome.status} {outcome.error!r}"
                )
            run.assert_no_secret_leak(outcome, configuration)
        assert not problems, "; ".join(problems)
