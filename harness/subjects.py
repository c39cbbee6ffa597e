"""What is put under test: anything that syncs a source into an index.

* ``inprocess`` -- the runtime's public API in this process (fast);
* ``cli`` -- the ``connectors`` command as a subprocess (true end to end);
* ``command:TEMPLATE`` -- any command line; ``{es_url}``, ``{index}``, ``{config}`` (a JSON
  file with the connector spec) and ``{mode}`` (full or incremental) are filled in.

Assertions only look at outcomes (the index, the job record), so any implementation fits.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.connectors_cli import connector_timezone, create_connector, sync_connector
from harness.result_protocol import parse_result
from harness.services.es_http import ElasticsearchEndpoint


@dataclass
class ConnectorSpec:
    id: str
    service_type: str
    index_name: str
    configuration: dict[str, Any] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "service_type": self.service_type,
            "index_name": self.index_name,
            "configuration": self.configuration,
        }


@dataclass
class SyncOutcome:
    ok: bool
    status: str
    error: str | None
    counts: dict[str, Any]
    seconds: float
    reported: bool = False  # the counts come from the subject result protocol

    @property
    def docs(self) -> int:
        return int(self.counts.get("seen", 0))


class SyncSubject(Protocol):
    name: str
    records_jobs: bool  # writes .elastic-connectors-sync-jobs, so job records can be checked

    def sync(
        self, spec: ConnectorSpec, mode: str = "full", allow_mass_delete: bool = False
    ) -> SyncOutcome: ...


def _redact(text: str, spec: ConnectorSpec) -> str:
    for key, value in spec.configuration.items():
        if "password" in key and isinstance(value, str) and value:
            text = text.replace(value, "***")
    return text


class InProcessSubject:
    name = "inprocess"
    records_jobs = True

    def __init__(self, endpoint: ElasticsearchEndpoint) -> None:
        self.endpoint = endpoint

    def sync(
        self, spec: ConnectorSpec, mode: str = "full", allow_mass_delete: bool = False
    ) -> SyncOutcome:
        return asyncio.run(self._sync(spec, mode, allow_mass_delete))

    async def _sync(self, spec: ConnectorSpec, mode: str, allow_mass_delete: bool) -> SyncOutcome:
        from connectors.api import save_connector, sync_connector
        from connectors.es.bulk_transport import HttpBulkTransport
        from connectors.es.client import EsSettings, es_client
        from connectors.es.state import JobType
        from connectors.sync import SyncOptions

        started = time.perf_counter()
        auth = self.endpoint.basic_auth()
        settings = EsSettings(self.endpoint.url, *(auth or (None, None)))
        client = es_client(settings)
        transport = HttpBulkTransport(settings)  # the CLI's path, in this process
        try:
            try:
                await save_connector(client, spec.to_dict())
            except ValueError as exc:  # ConfigError, ConnectorSpecError
                return SyncOutcome(
                    False, "refused", _redact(str(exc), spec), {}, time.perf_counter() - started
                )
            options = SyncOptions(allow_mass_delete=allow_mass_delete, bulk_transport=transport)
            outcome = await sync_connector(client, spec.id, JobType(mode), options)
        finally:
            await transport.close()
            await client.close()
        result = outcome.result
        counts = (
            {}
            if result is None
            else {
                "seen": result.seen,
                "indexed": result.indexed,
                "unchanged": result.unchanged,
                "deleted": result.deleted,
                "failed": result.failed,
            }
        )
        return SyncOutcome(
            outcome.status == "completed",
            outcome.status,
            outcome.error and _redact(outcome.error, spec),
            counts,
            time.perf_counter() - started,
        )


class CliSubject:
    name = "cli"
    records_jobs = True

    def __init__(self, endpoint: ElasticsearchEndpoint) -> None:
        self.endpoint = endpoint
        self._saved: dict[str, dict[str, Any]] = {}  # connector id -> the spec it was saved with

    def create(self, spec: ConnectorSpec) -> subprocess.CompletedProcess[str]:
        """``connectors create``, unless this very spec was saved already: a second
        interpreter start per sync would double the suite's fixed cost."""
        wanted = spec.to_dict()
        if self._saved.get(spec.id) == wanted:
            return subprocess.CompletedProcess(["connectors", "create"], 0, "", "")
        done = create_connector(self.endpoint, wanted)
        if done.returncode == 0:
            self._saved[spec.id] = wanted
        else:
            self._saved.pop(spec.id, None)
        return done

    def sync(
        self, spec: ConnectorSpec, mode: str = "full", allow_mass_delete: bool = False
    ) -> SyncOutcome:
        started = time.perf_counter()
        created = self.create(spec)
        if created.returncode != 0:
            return SyncOutcome(
                False,
                "refused",
                _redact(created.stderr.strip(), spec),
                {},
                time.perf_counter() - started,
            )
        done = sync_connector(self.endpoint, spec.id, mode, allow_mass_delete)
        return _outcome(done, spec, time.perf_counter() - started)


class CommandSubject:
    name = "command"
    records_jobs = False

    def __init__(self, endpoint: ElasticsearchEndpoint, template: str) -> None:
        self.endpoint = endpoint
        self.template = template

    def sync(
        self, spec: ConnectorSpec, mode: str = "full", allow_mass_delete: bool = False
    ) -> SyncOutcome:
        started = time.perf_counter()
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(spec.to_dict() | {"allow_mass_delete": allow_mass_delete}, handle)
        try:
            os.chmod(handle.name, 0o600)
            command = self.template.format(
                es_url=shlex.quote(self.endpoint.url),
                index=shlex.quote(spec.index_name),
                config=shlex.quote(handle.name),
                mode=mode,
            )
            done = subprocess.run(
                command,
                shell=True,
                capture_output=True,
                text=True,
                timeout=3600,
                check=False,
                env=dict(os.environ, TZ=connector_timezone()),  # hostile here too
            )
        finally:
            os.unlink(handle.name)
        return _outcome(done, spec, time.perf_counter() - started)


def _outcome(
    done: subprocess.CompletedProcess[str], spec: ConnectorSpec, seconds: float
) -> SyncOutcome:
    """What a sync command said: its result line (harness/result_protocol.py) if it
    printed one, else only its exit code and stderr."""
    result = parse_result(done.stdout)
    stderr = done.stderr.strip() or None
    if result is None:
        status = "completed" if done.returncode == 0 else "error"
        return SyncOutcome(done.returncode == 0, status, _redact_opt(stderr, spec), {}, seconds)
    error = result.get("error") or stderr
    ok = done.returncode == 0 and result["status"] == "completed"
    return SyncOutcome(ok, result["status"], _redact_opt(error, spec), result, seconds, True)


def _redact_opt(text: str | None, spec: ConnectorSpec) -> str | None:
    return _redact(text, spec) if text else None


def make_subject(description: str, endpoint: ElasticsearchEndpoint) -> SyncSubject:
    if description == "inprocess":
        return InProcessSubject(endpoint)
    if description == "cli":
        return CliSubject(endpoint)
    if description.startswith("command:"):
        return CommandSubject(endpoint, description.removeprefix("command:"))
    raise ValueError(f"unknown subject {description!r}: use inprocess, cli or command:TEMPLATE")
