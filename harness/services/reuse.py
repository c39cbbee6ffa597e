"""Services kept alive across runs (``--reuse-services`` and ``harness up``).

A reusable service is started detached (not watched by the reaper) and recorded in a
state file (mode 0600: records hold generated passwords). The next run attaches in
milliseconds if the recorded service is still alive, answers, and matches what is asked
for; otherwise it starts a new one. Records are per kind, built by the kind itself.
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

from harness.atomic import write_atomic
from harness.environment import HarnessEnvironment
from harness.services import registry
from harness.services.process import tail
from harness.services.reaper import kill_group, process_tree
from harness.services.wait import NotReady
from harness.services.workdirs import base_dir, process_start_time, processes_using


def state_path() -> Path:
    return HarnessEnvironment.current().state_file or base_dir() / "services.json"


@contextmanager
def locked_state() -> Iterator[dict[str, Any]]:
    """Read-modify-write the state under an exclusive lock (concurrent runs, xdist workers)."""
    path = state_path()
    with path.with_suffix(".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        state = read_state()
        yield state
        write_atomic(path, json.dumps(state, indent=2), mode=0o600)


def read_state() -> dict[str, Any]:
    path = state_path()
    try:
        state: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    except ValueError:
        return {}
    return state


@dataclass
class ReusedService:
    """A recorded service. ``stop`` keeps it running for the next run; ``shutdown`` ends it."""

    name: str
    endpoint: Any
    pgid: int
    workdir: str
    backend: str = "local"
    stop_signal: int = signal.SIGTERM
    started: str | None = None  # the group leader's start time, when it was recorded

    def stop(self) -> None:
        """Kept for the next run: ``harness down`` stops it."""

    def shutdown(self) -> None:
        """Stop it, acting on the recorded group only while its leader is the process we
        started: a recycled id belongs to someone else. Whatever still runs in the work
        dir is ours, whatever its id."""
        if self.owns_group():
            kill_group(self.pgid, grace=30, first=self.stop_signal)
        for group in sorted({os.getpgid(pid) for pid in processes_using(Path(self.workdir))}):
            if group != os.getpgrp():
                kill_group(group, grace=30, first=self.stop_signal)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def owns_group(self) -> bool:
        return self.started is not None and process_start_time(self.pgid) == self.started

    def log_tail(self, lines: int = 40) -> str:
        return tail(Path(self.workdir) / "console.log", lines)

    def pids(self) -> list[int]:
        return process_tree(self.pgid)

    def alive(self) -> bool:
        return self.owns_group() and bool(process_tree(self.pgid))


def to_record(service: Any, key: str) -> dict[str, Any]:
    """A local service's record: how to reach it (the kind's) and how to stop it."""
    return {
        "key": key,
        "pgid": service.process.pgid,
        "started": process_start_time(service.process.pgid),
        "workdir": str(service.workdir.path),
        "stop_signal": int(service.process.stop_signal),
        "endpoint": registry.kind(service.name).endpoint_record(service.endpoint),
    }


def from_record(name: str, record: dict[str, Any]) -> ReusedService:
    return ReusedService(
        name,
        registry.kind(name).endpoint_from_record(record["endpoint"]),
        record["pgid"],
        record["workdir"],
        stop_signal=record.get("stop_signal", signal.SIGTERM),
        started=record.get("started"),
    )


def discard(name: str, record: dict[str, Any]) -> None:
    """Stop a recorded service without needing its kind (a kind not loaded here, or a
    record written by an older harness)."""
    if "pgid" in record and "workdir" in record:
        stop_signal = record.get("stop_signal", signal.SIGTERM)
        started = record.get("started")
        ReusedService(
            name, None, record["pgid"], record["workdir"], stop_signal=stop_signal, started=started
        ).shutdown()


def answering(service: ReusedService) -> bool:
    if not service.alive():
        return False
    try:
        registry.kind(service.name).probe(service.endpoint)
    except (OSError, NotReady):
        return False
    return True
