"""The ``cli`` subject: the ``connectors`` command as a subprocess (true end to end)."""

from __future__ import annotations

import subprocess
import time
from typing import IO, Any

from harness.services.es_http import ElasticsearchEndpoint
from harness.subjects.connectors_cli import (
    create_connector,
    queue_full_sync,
    save_and_sync,
    start_connectors,
    sync_args,
    sync_connector,
)
from harness.subjects.protocol import (
    SERVICE_POLL_SECONDS,
    ConnectorSpec,
    SyncOutcome,
    outcome_of,
    redact,
)


class CliSubject:
    name = "cli"
    records_jobs = True
    # What its service logs once it has taken in SIGTERM (connectors/service.py): a
    # scenario that stops the service waits for it, not for a length of time.
    stop_heard = "stop requested"

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
                    redact(done.stderr.strip(), spec),
                    {},
                    time.perf_counter() - started,
                    raw=done.stdout + done.stderr,
                    exit_code=done.returncode,
                )
            self._saved[key] = wanted
            done.stderr = saved + rest.partition("\n")[2]  # the result's words alone
        outcome = outcome_of(done, spec, time.perf_counter() - started)
        outcome.exit_code = done.returncode
        return outcome

    def start(self, spec: ConnectorSpec, log: IO[str], mode: str = "full") -> subprocess.Popen[str]:
        self._created(spec)
        return start_connectors(self.endpoint, sync_args(spec.id, mode), log, self.env)

    def start_service(self, spec: ConnectorSpec, log: IO[str]) -> subprocess.Popen[str]:
        self._created(spec)
        # Its own connector only: a service runs, schedules and sweeps the jobs of the
        # connectors it serves, and other runs share this Elasticsearch.
        args = ["service", "--poll-interval", str(SERVICE_POLL_SECONDS), "--connector", spec.id]
        return start_connectors(self.endpoint, args, log, self.env)

    def queue_job(self, spec: ConnectorSpec, job_id: str) -> None:
        queue_full_sync(self.endpoint, spec.id, spec.index_name, spec.service_type, job_id)

    def _created(self, spec: ConnectorSpec) -> None:
        created = self.create(spec)
        if created.returncode != 0:
            raise AssertionError(f"connectors create failed: {redact(created.stderr, spec)}")
