"""Services kept alive across runs (``--reuse-services`` and ``harness up``).

A reusable service is started detached (not watched by the reaper) and recorded in a
state file (mode 0600: it holds the generated PostgreSQL password). The next run attaches
in about a second if the recorded service is still alive, answers, and matches what is
asked for; otherwise it starts a new one.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.services.base import ElasticsearchEndpoint, PostgresEndpoint, Secret
from harness.services.es_http import server_version
from harness.services.postgres import check_postgres
from harness.services.reaper import kill_group, process_tree
from harness.services.wait import NotReady
from harness.services.workdirs import base_dir


def state_path() -> Path:
    return Path(os.environ.get("HARNESS_STATE_FILE", base_dir() / "services.json"))


@contextmanager
def locked_state() -> Iterator[dict[str, Any]]:
    """Read-modify-write the state under an exclusive lock (concurrent runs, xdist workers)."""
    path = state_path()
    lock = path.with_suffix(".lock")
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            state = json.loads(path.read_text()) if path.exists() else {}
        except ValueError:
            state = {}
        yield state
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(state, out, indent=2)
        tmp.replace(path)


def read_state() -> dict[str, Any]:
    path = state_path()
    try:
        return json.loads(path.read_text()) if path.exists() else {}
    except ValueError:
        return {}


@dataclass
class ReusedService:
    """A recorded service. ``stop`` keeps it running for the next run; ``shutdown`` ends it."""

    name: str
    endpoint: ElasticsearchEndpoint | PostgresEndpoint
    pgid: int
    workdir: str
    backend: str = "local"
    stop_signal: int = signal.SIGTERM

    def stop(self) -> None:
        """Kept for the next run: ``harness down`` stops it."""

    def shutdown(self) -> None:
        kill_group(self.pgid, grace=30, first=self.stop_signal)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        from harness.services.process import tail

        return tail(Path(self.workdir) / "console.log", lines)

    def pids(self) -> list[int]:
        return process_tree(self.pgid)

    def alive(self) -> bool:
        return bool(process_tree(self.pgid))


def to_record(service: Any, key: str) -> dict[str, Any]:
    endpoint = service.endpoint
    record: dict[str, Any] = {
        "key": key,
        "pgid": service.process.pgid,
        "workdir": str(service.workdir.path),
        "stop_signal": int(service.process.stop_signal),
        "version": endpoint.version,
    }
    if isinstance(endpoint, ElasticsearchEndpoint):
        record["url"] = endpoint.url
    else:
        record |= {
            "host": endpoint.host,
            "port": endpoint.port,
            "user": endpoint.user,
            "password": endpoint.password.reveal(),
            "dbname": endpoint.dbname,
        }
    return record


def from_record(name: str, record: dict[str, Any]) -> ReusedService:
    endpoint: ElasticsearchEndpoint | PostgresEndpoint
    if name == "elasticsearch":
        endpoint = ElasticsearchEndpoint(record["url"], record["version"], "local")
    else:
        endpoint = PostgresEndpoint(
            record["host"],
            record["port"],
            record["user"],
            Secret(record["password"]),
            record["dbname"],
            record["version"],
            "local",
        )
    return ReusedService(
        name,
        endpoint,
        record["pgid"],
        record["workdir"],
        stop_signal=record.get("stop_signal", signal.SIGTERM),
    )


def answering(service: ReusedService) -> bool:
    if not service.alive():
        return False
    try:
        if isinstance(service.endpoint, ElasticsearchEndpoint):
            server_version(service.endpoint, timeout=3)
        else:
            check_postgres(service.endpoint)
    except (OSError, NotReady):
        return False
    return True
