"""Bad configurations, generated from the connector's own schema
(harness/suite/bad_config_cases.py): one of every kind each field declares, then more
drawn by Hypothesis. Each must be refused
when saved: one line naming the field (and the right name of a misspelt
one), the exit code for a bad configuration, no traceback, no secret, and nothing
written -- no connector document, no job, no index. Every connector inherits it."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from connectors.registry import load_source
from harness import state_index
from harness.checks.config_refusals import INVALID_CONFIG_EXIT
from harness.scenario import ScenarioRun
from harness.services.es_http import EsHttpError, es_request
from harness.suite.bad_config_cases import SECRET, BadCase, bad_configurations, every_kind

EXAMPLES = 10  # drawn beyond the one-of-every-kind cases


class BadConfigSuite:
    def test_generated_bad_configurations_are_refused_clearly_and_write_nothing(
        self, run: ScenarioRun
    ) -> None:
        schema = load_source(run.scenario.connector).config_schema()
        valid = run.fixture.configuration()
        refused: list[str] = []

        def check(case: BadCase) -> None:
            outcome = run.sync(configuration=case.configuration, expect_ok=False)
            error, raw = outcome.error or "", outcome.raw or ""
            problems = []
            if outcome.status != "refused":
                problems.append(f"not refused when saved (status {outcome.status!r})")
            if outcome.exit_code not in (None, INVALID_CONFIG_EXIT):
                problems.append(f"exit code {outcome.exit_code}, not {INVALID_CONFIG_EXIT}")
            if f"{case.field}:" not in error:
                problems.append(f"the field {case.field!r} is not named ({case.field}:)")
            if case.suggest and repr(case.suggest) not in error:
                problems.append(f"no suggestion of {case.suggest!r}")
            if "Traceback" in raw or len(error.strip().splitlines()) > 1:
                problems.append("not one line")
            if SECRET in raw:
                problems.append("the planted password is shown")
            problems += _written(run)
            assert not problems, f"{case!r}: " + "; ".join(problems) + f" -- said: {error!r}"
            refused.append(case.what)

        failures = []
        for case in every_kind(schema, valid):
            try:
                check(case)
            except AssertionError as exc:
                failures.append(str(exc).splitlines()[0])
        assert not failures, f"{len(failures)} bad configurations not refused clearly:\n" + (
            "\n".join(failures)
        )

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,  # the same cases every run: a red run is a bug, not luck
            suppress_health_check=list(HealthCheck),
        )
        @given(case=bad_configurations(schema, valid))
        def refused_clearly(case: BadCase) -> None:
            check(case)

        refused_clearly()
        run.note(bad_configurations_refused=len(refused))


def _written(run: ScenarioRun) -> list[str]:
    found = []
    if _exists(run, state_index.connector_doc(run.connector_id)):
        found.append("a connector document was saved")
    if _exists(run, f"/{run.index}"):
        found.append(f"the index {run.index} was created")
    return found


def _exists(run: ScenarioRun, path: str) -> bool:
    try:
        answer: Any = es_request(run.es, "GET", path)
    except EsHttpError as exc:
        if exc.status == 404:
            return False
        raise
    return bool(answer.get("found", True))
