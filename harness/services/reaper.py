"""A watchdog that stops our services if the process that started them dies.

Normal exits, failing tests and SIGINT/SIGTERM are handled by fixture teardown. A pytest
killed with SIGKILL (or an OOM kill, or a crashed interpreter) runs no teardown, so each
harness process starts one reaper: a tiny child in its own session that reads commands from
a pipe. When the pipe reaches EOF -- which the kernel guarantees when our process dies --
the reaper kills every process group it still tracks and removes their work dirs.

Protocol, one command per line: ``track PGID``, ``untrack PGID``, ``dir PATH``, ``undir PATH``,
and ``sweep``: at the end, also stop the services of every work dir whose owner is gone
(detached services that inner runs started for this process, see ``services_owner``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterable

GRACE_SECONDS = 10.0
REAPER_MODULE = "harness.services.reaper"


def kill_group(pgid: int, grace: float = GRACE_SECONDS, first: int = signal.SIGTERM) -> None:
    """Signal a service's process group, then SIGKILL whatever is left after ``grace``.

    The group leader gets ``first``; its descendants are recorded beforehand because some
    servers (PostgreSQL) put each child in a session of its own, outside the group.
    Reapers among the descendants are spared: each ends by itself once its parent is
    gone, after stopping what it watches. Killed with the rest (a stopped CI run), they
    left the detached services of inner runs running and their work dirs behind.
    """
    members = {pid for pid in process_tree(pgid) if not is_reaper(pid)}
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, first)
    for pid in members:  # a paused (SIGSTOPped) service acts on the signal only once resumed
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    deadline = time.monotonic() + grace
    while grace > 0 and time.monotonic() < deadline:
        if not any(_running(pid) for pid in members) and not group_alive(pgid):
            return
        time.sleep(0.05)
    for pid in members:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def is_reaper(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = handle.read().split(b"\0")
    except OSError:
        return False
    return REAPER_MODULE.encode() in argv


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name: [state, ppid, pgrp, ...]."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _running(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def process_tree(root: int) -> list[int]:
    """``root``, its live descendants and the live members of its process group."""
    parents: dict[int, int] = {}
    in_group: list[int] = []
    for pid in _all_pids():
        fields = _stat(pid)
        if fields is None or fields[0] == "Z":
            continue
        parents[pid] = int(fields[1])
        if int(fields[2]) == root:
            in_group.append(pid)
    found = {root} if root in parents else set()
    found.update(in_group)
    frontier = list(found)
    while frontier:
        current = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == current and pid not in found:
                found.add(pid)
                frontier.append(pid)
    return sorted(found)


def group_alive(pgid: int) -> bool:
    """Whether any non-zombie process is left in the group."""
    for pid in _all_pids():
        fields = _stat(pid)
        if fields is not None and fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def serve(stream: Iterable[str]) -> None:  # pragma: no cover - runs in the reaper child
    groups: set[int] = set()
    dirs: set[str] = set()
    sweep = False
    for line in stream:
        verb, _, arg = line.strip().partition(" ")
        if verb == "track":
            groups.add(int(arg))
        elif verb == "untrack":
            groups.discard(int(arg))
        elif verb == "dir":
            dirs.add(arg)
        elif verb == "undir":
            dirs.discard(arg)
        elif verb == "sweep":
            sweep = True
    threads = [threading.Thread(target=kill_group, args=(pgid,)) for pgid in groups]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for path in dirs:
        shutil.rmtree(path, ignore_errors=True)
    if sweep:
        from harness.services.workdirs import clean_stale

        clean_stale()


class ReaperDied(RuntimeWarning):
    """The watchdog was killed: until replaced, a SIGKILLed harness would orphan services."""


class Reaper:
    """Client side: one reaper child per harness process, started on first use.

    The client remembers what it asked the reaper to watch. If the reaper dies (killed by a
    user's ``pkill python``, an OOM kill), the next use -- and ``check``, which the plugin
    calls before every test -- notices, warns, starts a new one and hands it everything
    the dead one watched, so no service is left unguarded."""

    _instance: Reaper | None = None
    _lock = threading.Lock()

    def __init__(
        self, groups: Iterable[int] = (), dirs: Iterable[str] = (), sweep: bool = False
    ) -> None:
        self.groups: set[int] = set(groups)
        self.dirs: set[str] = set(dirs)
        self.sweep = sweep
        self._proc = subprocess.Popen(
            [sys.executable, "-m", REAPER_MODULE],
            stdin=subprocess.PIPE,
            text=True,
            start_new_session=True,  # Ctrl-C in the terminal must not kill it before teardown
            close_fds=True,
        )
        for pgid in self.groups:
            self._write(f"track {pgid}")
        for path in self.dirs:
            self._write(f"dir {path}")
        if sweep:
            self._write("sweep")

    @classmethod
    def get(cls) -> Reaper:
        with cls._lock:
            current = cls._instance
            if current is None:
                current = cls._instance = cls()
            elif not current.alive():
                current = cls._instance = current._replaced()
            return current

    @classmethod
    def check(cls) -> str | None:
        """Replace a dead reaper now; returns what happened, if anything."""
        with cls._lock:
            current = cls._instance
            if current is None or current.alive():
                return None
            cls._instance = current._replaced()
            return cls._instance.replaced_note

    replaced_note: str | None = None

    def _replaced(self) -> Reaper:
        code = self._proc.poll()
        fresh = Reaper(self.groups, self.dirs, self.sweep)
        fresh.replaced_note = (
            f"the service reaper (pid {self.pid}) died (exit {code}); reaper {fresh.pid} "
            f"now watches its {len(self.groups)} service group(s) and {len(self.dirs)} dir(s)"
        )
        warnings.warn(fresh.replaced_note, ReaperDied, stacklevel=3)
        return fresh

    def alive(self) -> bool:
        return self._proc.poll() is None

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _write(self, line: str) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(line + "\n")
        self._proc.stdin.flush()

    def _send(self, line: str) -> None:
        with contextlib.suppress(OSError):  # it died since get(): the next get() replaces it
            self._write(line)

    def track(self, pgid: int) -> None:
        self.groups.add(pgid)
        self._send(f"track {pgid}")

    def untrack(self, pgid: int) -> None:
        self.groups.discard(pgid)
        self._send(f"untrack {pgid}")

    def track_dir(self, path: str) -> None:
        self.dirs.add(path)
        self._send(f"dir {path}")

    def untrack_dir(self, path: str) -> None:
        self.dirs.discard(path)
        self._send(f"undir {path}")

    def sweep_at_exit(self) -> None:
        """Services started for this process by others (``services_owner``) are stopped
        too when it dies, not left running until the next run's clean-up."""
        self.sweep = True
        self._send("sweep")


if __name__ == "__main__":  # pragma: no cover
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(sys.stdin)
