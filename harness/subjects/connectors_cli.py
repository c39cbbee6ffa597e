"""The one place the harness runs the ``connectors`` command: the CLI subject, the
benchmarks and the measurement scripts all go through it, so every one of them reaches
Elasticsearch the same way (URL and credentials from the endpoint)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, Any

from harness import state_index
from harness.environment import HarnessEnvironment
from harness.services.es_http import ElasticsearchEndpoint, es_request
from harness.subjects.processes import run_guarded, start_guarded

TIMEOUT_SECONDS = 3600
# The runtime installed with this interpreter, not the first `connectors` on PATH: another
# environment's copy would be tested by mistake, and a launcher in between (a pyenv shim:
# bash and `pyenv exec`) costs about 60 ms of CPU on each of a suite's ~140 calls.
CONNECTORS_COMMAND = (sys.executable, "-m", "connectors")


def connector_timezone() -> str:
    """The zone connector processes run in: not UTC, unless the user says so."""
    return HarnessEnvironment.current().connector_timezone


def connectors_env(
    es: ElasticsearchEndpoint, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = dict(os.environ, CONNECTORS_ES_URL=es.url, TZ=connector_timezone(), **(extra or {}))
    auth = es.basic_auth()
    if auth:
        env["CONNECTORS_ES_USERNAME"], env["CONNECTORS_ES_PASSWORD"] = auth
    return env


def run_connectors(
    es: ElasticsearchEndpoint, *args: str, extra_env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_guarded(
        [*CONNECTORS_COMMAND, *args],
        text=True,
        env=connectors_env(es, extra_env),
        timeout=TIMEOUT_SECONDS,
    )


@contextmanager
def spec_file(spec: Mapping[str, Any]) -> Iterator[str]:
    """A connector spec as a 0600 temp file (it holds the password), removed after use."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        os.chmod(handle.name, 0o600)
        json.dump(spec, handle)
    try:
        yield handle.name
    finally:
        os.unlink(handle.name)


def create_connector(
    es: ElasticsearchEndpoint,
    spec: Mapping[str, Any],
    extra_env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``connectors create``."""
    with spec_file(spec) as path:
        return run_connectors(es, "create", "--config", path, extra_env=extra_env)


def sync_args(connector_id: str, mode: str = "full", allow_mass_delete: bool = False) -> list[str]:
    args = ["sync", "--", connector_id]
    args[1:1] = {"incremental": ["--incremental"], "access_control": ["--access-control"]}.get(
        mode, []
    )
    args[1:1] = ["--allow-mass-delete"] if allow_mass_delete else []
    return args


def sync_connector(
    es: ElasticsearchEndpoint,
    connector_id: str,
    mode: str = "full",
    allow_mass_delete: bool = False,
    extra_env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``connectors sync``; its stdout is one JSON object of counts when the sync ran."""
    return run_connectors(
        es, *sync_args(connector_id, mode, allow_mass_delete), extra_env=extra_env
    )


def save_and_sync(
    es: ElasticsearchEndpoint,
    spec: Mapping[str, Any],
    mode: str = "full",
    allow_mass_delete: bool = False,
    extra_env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``connectors sync --config``: the spec saved as ``create`` saves it, then synced, in
    one process. Its stderr says ``connector ID (...) saved`` once the spec is saved."""
    with spec_file(spec) as path:
        args = sync_args(str(spec["id"]), mode, allow_mass_delete)
        return run_connectors(es, "sync", "--config", path, *args[1:], extra_env=extra_env)


def start_connectors(
    es: ElasticsearchEndpoint,
    args: list[str],
    log: IO[str],
    extra_env: Mapping[str, str] | None = None,
) -> subprocess.Popen[str]:
    """``connectors ARGS`` in the background, output to ``log``: for scenarios that kill
    or signal it."""
    return start_guarded(
        [*CONNECTORS_COMMAND, *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        env=connectors_env(es, extra_env),
    )


def queue_full_sync(
    es: ElasticsearchEndpoint, connector_id: str, index: str, service_type: str, job_id: str
) -> None:
    """A pending full sync, written as Kibana writes one: for a running service to pick up."""
    job = {
        "connector": {"id": connector_id, "index_name": index, "service_type": service_type},
        "job_type": "full",
        "trigger_method": "on_demand",
        "status": "pending",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "last_seen": None,
    }
    es_request(es, "PUT", state_index.job_doc(job_id) + "?refresh=true", job)
