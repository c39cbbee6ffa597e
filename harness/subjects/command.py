"""The ``command:TEMPLATE`` subject: any command line, with ``{es_url}``, ``{index}``,
``{config}`` (a JSON file with the connector spec) and ``{mode}`` filled in."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from harness.services.es_http import ElasticsearchEndpoint
from harness.subjects.connectors_cli import (
    connector_timezone,
)
from harness.subjects.processes import run_guarded, start_guarded
from harness.subjects.protocol import ConnectorSpec, SyncOutcome, outcome_of


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
        return outcome_of(done, spec, time.perf_counter() - started)

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


def _unlink_after(process: subprocess.Popen[str], path: str) -> None:
    process.wait()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
