"""Secrets under failure: a password the source rejects must fail the sync without ever
being shown. The other failure scenarios check the same of the password they configure
(``ScenarioRun.assert_no_secret_leak``), reading the subject's raw output."""

from __future__ import annotations

import hashlib

import pytest

from harness.checks.secret_leaks import secret_fields
from harness.scenario import ScenarioRun


class SecretSuite:
    def test_a_rejected_password_is_never_shown(self, run: ScenarioRun) -> None:
        if not getattr(run.fixture, "verifies_credentials", True):
            pytest.skip(
                f"this {run.scenario.service} store accepts any credentials (moto in Docker does): "
                "run against one that checks them to prove this"
            )
        run.fixture.load("tiny")
        configuration = run.fixture.configuration()
        secrets = secret_fields(configuration)
        if not secrets:
            pytest.skip("the connector's configuration holds no secret")
        # Distinct, recognisable, and the same on every run of this scenario.
        decoys = {
            field: "decoy-"
            + hashlib.sha256(f"{run.connector_id}:{field}".encode()).hexdigest()[:16]
            for field in secrets
        }
        wrong = configuration | decoys
        outcome = run.sync(configuration=wrong, expect_ok=False)
        assert not outcome.ok, "a sync with a password the source rejects reported success"
        if outcome.status != "refused":  # refused at create: no job was ever made
            run.assert_job(status="error")
        run.assert_no_secret_leak(outcome, wrong)


def _decoy(connector_id: str, field: str) -> str:
    return "decoy-" + hashlib.sha256(f"{connector_id}:{field}".encode()).hexdigest()[:16]
