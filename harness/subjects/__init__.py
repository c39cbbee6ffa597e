"""What is put under test: anything that syncs a source into an index.

* ``inprocess`` -- the runtime's public API in this process (fast);
* ``cli`` -- the ``connectors`` command as a subprocess (true end to end);
* ``command:TEMPLATE`` -- any command line; ``{es_url}``, ``{index}``, ``{config}`` (a JSON
  file with the connector spec) and ``{mode}`` (full, incremental or access_control) are filled in.

Assertions only look at outcomes (the index, the job record), so any implementation fits.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import shlex
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any, Protocol, runtime_checkable

from harness.connectors_cli import (
    connector_timezone,
    create_connector,
    queue_full_sync,
    save_and_sync,
    start_connectors,
    sync_args,
    sync_connector,
)
from harness.result_protocol import parse_result
from harness.services.es_http import ElasticsearchEndpoint
from harness.subject_processes import run_guarded, start_guarded


@dataclass
class ConnectorSpec:
    id: str
    service_type: str
    index_name: str
    configuration: dict[str, Any] = field(repr=False)
    basic_rules: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        spec = {
            "id": self.id,
            "service_type": self.service_type,
            "index_name": self.index_name,
            "configuration": self.configuration,
        }
        return spec | ({"basic_rules": self.basic_rules} if self.basic_rules else {})


@dataclass
class SyncOutcome:
    ok: bool
    status: str
    error: str | None
    counts: dict[str, Any]
    seconds: float
    reported: bool = False  # the counts come from the subject result protocol
    # Everything the subject printed, unmasked: for secret-leak checks only, never shown.
    raw: str = field(default="", repr=False)
    exit_code: int | None = None  # of the subject's command, where it is one

    @property
    def docs(self) -> int:
        return int(self.counts.get("seen", 0))


SERVICE_POLL_SECONDS = 0.2


class SubjectUnavailable(RuntimeError):
    """The subject cannot run here (what it needs is not installed): scenarios skip, saying
    why."""


class SyncSubject(Protocol):
    name: str
    records_jobs: bool  # writes .elastic-connectors-sync-jobs, so job records can be checked
    endpoint: ElasticsearchEndpoint
    # Extra environment for the sync (CONNECTORS_ES_REQUEST_TIMEOUT=..., ...): fault
    # scenarios tune timeouts through it.
    env: dict[str, str]

    def sync(
        self, spec: ConnectorSpec, mode: str = "full", allow_mass_delete: bool = False
    ) -> SyncOutcome: ...


@runtime_checkable
class ProcessSubject(SyncSubject, Protocol):
    """A subject whose sync is a process of its own, which a scenario can kill."""

    def start(self, spec: ConnectorSpec, log: IO[str], mode: str = "full") -> subprocess.Popen[str]:
        """The sync, started and not waited for."""
        ...


@runtime_checkable
class ServiceSubject(ProcessSubject, Protocol):
    """A subject with a long-running service that runs pending jobs."""

    def start_service(self, spec: ConnectorSpec, log: IO[str]) -> subprocess.Popen[str]:
        """The service, for the connector ``spec`` (saved first), started."""
        ...

    def queue_job(self, spec: ConnectorSpec, job_id: str) -> None:
        """A pending full sync of ``spec``, written as Kibana writes one, for the
        service to pick up."""
        ...


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
        self.env: dict[str, str] = {}

    def sync(
        self, spec: ConnectorSpec, mode: str = "full", allow_mass_delete: bool = False
    ) -> SyncOutcome:
        with _environ(self.env):
            return asyncio.run(self._sync(spec, mode, allow_mass_delete))

    async def _sync(self, spec: ConnectorSpec, mode: str, allow_mass_delete: bool) -> SyncOutcome:
        from connectors.api import save_connector, sync_connector
        from connectors.es.bulk_transport import HttpBulkTransport
        from connectors.es.client import EsSettings, es_client
        from connectors.es.state import JobType
        from connectors.sync import SyncOptions

        started = time.perf_counter()
        auth = self.endpoint.basic_auth()
        settings = dataclasses.replace(
            EsSettings.from_env(self.endpoint.url), username=None, password=None
        )
        if auth:
            settings = dataclasses.replace(settings, username=auth[0], password=auth[1])
        client = es_client(settings)
        transport = HttpBulkTransport(settings)  # the CLI's path, in this process
        try:
            try:
                await save_connector(client, spec.to_dict())
            except ValueError as exc:  # ConfigError, ConnectorSpecError
                seconds = time.perf_counter() - started
                return SyncOutcome(
                    False, "refused", _redact(str(exc), spec), {}, seconds, raw=str(exc)
                )
            options = SyncOptions.from_env(
                allow_mass_delete=allow_mass_delete,
                bulk_transport=transport,
                bulk_retry_seconds=settings.retry_deadline,
            )
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
                "bulk_retries": result.retries,
            }
        )
        return SyncOutcome(
            outcome.status == "completed",
            outcome.status,
            outcome.error and _redact(outcome.error, spec),
            counts,
            time.perf_counter() - started,
            raw=outcome.error or "",
        )


class CliSubject:
    name = "cli"
    records_jobs = True

    def __init__(self, endpoint: ElasticsearchEndpoint) -> None:
        self.endpoint = endpoint
        self.env: dict[str, str] = {}
        self._saved: dict[tuple[str, str], dict[str, Any]] = {}  # (ES, id) -> spec saved

    def _unsaved(self, spec: ConnectorSpec) -> tuple[tuple[str, str], dict[str, Any]] | None:
        """(its key, its dict) when this very spec is not saved yet, else None: a second
        interpreter start per sync would double the suite's fixed cost."""
        wanted, key = spec.to_dict(), (self.endpoint.url, spec.id)
        if self._saved.get(key) == wanted:
            return None
        self._saved.pop(key, None)
        return key, wanted

    def create(self, spec: ConnectorSpec) -> subprocess.CompletedProcess[str]:
        """``connectors create``, unless this very spec was saved already."""
        unsaved = self._unsaved(spec)
        if unsaved is None:
            return subprocess.CompletedProcess(["connectors", "create"], 0, "", "")
        key, wanted = unsaved
        done = create_connector(self.endpoint, wanted, self.env)
        if done.returncode == 0:
            self._saved[key] = wanted
        return done

    def sync(
        self, spec: ConnectorSpec, mode: str = "full", allow_mass_delete: bool = False
    ) -> SyncOutcome:
        """``connectors sync``; ``sync --config`` when this spec is not saved yet, so that
        saving costs no interpreter start of its own."""
        started = time.perf_counter()
        unsaved = self._unsaved(spec)
        if unsaved is None:
            done = sync_connector(self.endpoint, spec.id, mode, allow_mass_delete, self.env)
        else:
            key, wanted = unsaved
            done = save_and_sync(self.endpoint, wanted, mode, allow_mass_delete, self.env)
            saved, marker, rest = done.stderr.partition(f"connector {spec.id} (")
            if not marker:  # refused before it was saved
                return SyncOutcome(
                    False,
                    "refused",
                    _redact(done.stderr.strip(), spec),
                    {},
                    time.perf_counter() - started,
                    raw=done.stdout + done.stderr,
                    exit_code=done.returncode,
                )
            self._saved[key] = wanted
            done.stderr = saved + rest.partition("\n")[2]  # the result's words alone
        outcome = _outcome(done, spec, time.perf_counter() - started)
        outcome.exit_code = done.returncode
        return outcome

    def start(self, spec: ConnectorSpec, log: IO[str], mode: str = "full") -> subprocess.Popen[str]:
        self._created(spec)
        return start_connectors(self.endpoint, sync_args(spec.id, mode), log, self.env)

    def start_service(self, spec: ConnectorSpec, log: IO[str]) -> subprocess.Popen[str]:
        self._created(spec)
        args = ["service", "--poll-interval", str(SERVICE_POLL_SECONDS)]
        return start_connectors(self.endpoint, args, log, self.env)

    def queue_job(self, spec: ConnectorSpec, job_id: str) -> None:
        queue_full_sync(self.endpoint, spec.id, spec.index_name, spec.service_type, job_id)

    def _created(self, spec: ConnectorSpec) -> None:
        created = self.create(spec)
        if created.returncode != 0:
            raise AssertionError(f"connectors create failed: {_redact(created.stderr, spec)}")


class CommandSubject:
    name = "command"
    records_jobs = False

    def __init__(self, endpoint: ElasticsearchEndpoint, template: str) -> None:
        self.endpoint = endpoint
        self.template = template
        self.env: dict[str, str] = {}

    def sync(
        self, spec: ConnectorSpec, mode: str = "full", allow_mass_delete: bool = False
    ) -> SyncOutcome:
        started = time.perf_counter()
        with self._command(spec, mode, allow_mass_delete) as (command, env, _):
            done = run_guarded(command, shell=True, text=True, timeout=3600, env=env)
        return _outcome(done, spec, time.perf_counter() - started)

    def start(self, spec: ConnectorSpec, log: IO[str], mode: str = "full") -> subprocess.Popen[str]:
        with self._command(spec, mode, False, keep=True) as (command, env, path):
            # exec: the shell becomes the command, so a signal reaches the sync itself
            process = start_guarded(
                f"exec {command}",
                shell=True,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                env=env,
            )
        # The spec file holds the password: removed as soon as the command has ended.
        threading.Thread(target=_unlink_after, args=(process, path), daemon=True).start()
        return process

    @contextmanager
    def _command(
        self, spec: ConnectorSpec, mode: str, allow_mass_delete: bool, keep: bool = False
    ) -> Iterator[tuple[str, dict[str, str], str]]:
        """The filled-in command line and its environment; the spec file (0600, it holds
        the password) is removed afterwards unless the command outlives the block."""
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
            # hostile zone here too
            yield command, dict(os.environ, TZ=connector_timezone(), **self.env), handle.name
        finally:
            if not keep:
                os.unlink(handle.name)


def _outcome(
    done: subprocess.CompletedProcess[str], spec: ConnectorSpec, seconds: float
) -> SyncOutcome:
    """What a sync command said: its result line (harness/result_protocol.py) if it
    printed one, else only its exit code and stderr."""
    result = parse_result(done.stdout)
    stderr = done.stderr.strip() or None
    raw = done.stdout + done.stderr
    if result is None:
        status = "completed" if done.returncode == 0 else "error"
        error = _redact_opt(stderr, spec)
        return SyncOutcome(done.returncode == 0, status, error, {}, seconds, raw=raw)
    error = result.get("error") or stderr
    ok = done.returncode == 0 and result["status"] == "completed"
    return SyncOutcome(ok, result["status"], _redact_opt(error, spec), result, seconds, True, raw)


def _redact_opt(text: str | None, spec: ConnectorSpec) -> str | None:
    return _redact(text, spec) if text else None


def _unlink_after(process: subprocess.Popen[str], path: str) -> None:
    process.wait()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


@contextmanager
def _environ(extra: dict[str, str]) -> Iterator[None]:
    """In-process subjects read their settings from this process's environment."""
    saved = {key: os.environ.get(key) for key in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
