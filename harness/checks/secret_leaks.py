"""Secrets stay secret: a configured password (or token, or key) must not appear in what
the subject printed -- read raw, before the harness masks anything -- nor in the job
record, nor in the connector document outside the configuration field that holds it."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from harness import state_index
from harness.checks.assertions import OutcomeError, latest_job
from harness.services.es_http import ElasticsearchEndpoint, EsHttpError, es_request
from harness.subjects import SyncOutcome

SECRET_WORDS = ("password", "secret", "token", "api_key", "apikey", "private_key")
MIN_LENGTH = 4  # shorter values would match by chance


def secret_fields(configuration: dict[str, Any]) -> dict[str, str]:
    """The configuration's secret values by field name."""
    return {
        key: value
        for key, value in configuration.items()
        if any(word in key.lower() for word in SECRET_WORDS)
        and isinstance(value, str)
        and len(value) >= MIN_LENGTH
    }


def leak_problems(
    es: ElasticsearchEndpoint,
    connector_id: str,
    outcome: SyncOutcome,
    configuration: dict[str, Any],
    records_jobs: bool,
) -> list[str]:
    secrets = secret_fields(configuration)
    places = {"the subject's output (stdout and stderr, unmasked)": outcome.raw}
    if records_jobs:
        with contextlib.suppress(OutcomeError):  # refused before any job: nothing recorded
            places["the sync job record"] = json.dumps(latest_job(es, connector_id))
        try:
            connector = es_request(es, "GET", state_index.connector_doc(connector_id))
        except EsHttpError as exc:
            if exc.status != 404:
                raise
        else:
            document = dict(connector["_source"])
            held = dict(document.pop("configuration", None) or {})
            for field in secrets:  # where the secret belongs
                held.pop(field, None)
            document["configuration"] = held
            places["the connector document (outside its secret fields)"] = json.dumps(document)
    return [
        f"the value of {field!r} appears in {place}"
        for field, value in secrets.items()
        for place, text in places.items()
        if value in text
    ]
