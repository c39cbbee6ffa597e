"""Process control for a locally run service: start in its own group, log to a file, stop.

Each service runs in a new session, so its whole process tree (Elasticsearch's launcher
and server JVMs, PostgreSQL's postmaster and backends) shares one process group that can
be signalled at once, and a Ctrl-C in the terminal reaches pytest only, which then stops
the services in order.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.services.base import ServiceError
from harness.services.privileges import ServiceUser
from harness.services.reaper import Reaper, group_alive, kill_group, process_tree


def tail(path: Path, lines: int = 40) -> str:
    try:
        with path.open("r", errors="replace") as handle:
            return "".join(deque(handle, maxlen=lines))
    except OSError:
        return f"(no log at {path})"


class ServiceProcess:
    """One running service process group (the *executor*, in pytest-postgresql's terms)."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str],
        user: ServiceUser,
        cwd: Path | None = None,
        stop_signal: int = signal.SIGTERM,
        watched: bool = True,
    ) -> None:
        self.name = name
        self.log_path = log_path
        self.stop_signal = stop_signal
        self._watched = watched
        with log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env),
                cwd=cwd,
                start_new_session=True,
                **user.popen_kwargs(),
            )
        self.pgid = self._popen.pid
        if watched:
            Reaper.get().track(self.pgid)

    @property
    def pid(self) -> int:
        pid: int = self._popen.pid
        return pid

    def exit_code(self) -> int | None:
        code: int | None = self._popen.poll()
        return code

    def alive(self) -> bool:
        return self._popen.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        return tail(self.log_path, lines)

    def stop(self, grace: float = 30.0, first: int | None = None) -> None:
        """Stop the whole group gracefully, then forcefully; idempotent."""
        kill_group(self.pgid, grace=grace, first=first or self.stop_signal)
        with contextlib.suppress(subprocess.TimeoutExpired):  # SIGKILL was already sent
            self._popen.wait(timeout=5)
        if self._watched:
            Reaper.get().untrack(self.pgid)

    def kill(self, timeout: float = 30.0) -> None:
        """SIGKILL the whole tree at once: a crash, with no chance to flush or clean up.
        Returns once every process is gone (a big JVM takes a moment to be torn down)."""
        members = self.tree()
        self.stop(grace=0, first=signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while self.group_alive() or any(pid in process_tree(pid) for pid in members):
            if time.monotonic() > deadline:
                raise ServiceError(f"{self.name}: processes {members} outlived SIGKILL")
            time.sleep(0.05)

    def signal_tree(self, signum: int) -> None:
        """Every process of the service, including children in sessions of their own
        (PostgreSQL's backends), so that SIGSTOP freezes all of it."""
        for pid in self.tree():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def group_alive(self) -> bool:
        return group_alive(self.pgid)

    def tree(self) -> list[int]:
        """Every live process of this service (leader, descendants, group members)."""
        return process_tree(self.pgid)
