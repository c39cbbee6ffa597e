"""A CPU hog: busy processes that compete with the suite for the cores, as other jobs do on
a shared CI runner. They run at the suite's own priority (a niced hog would yield to it
and prove nothing) and are watched by the reaper, so a killed stress run leaves none."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from harness.services.reaper import Reaper, kill_group

BUSY = "while True: pass"


def hog_count(factor: float) -> int:
    """``factor`` busy processes per core (0: none)."""
    return max(0, round(factor * (os.cpu_count() or 1)))


@contextmanager
def cpu_hog(processes: int, owner: str = "") -> Iterator[list[int]]:
    """Start ``processes`` busy loops; stop them all when the block ends. Each carries
    ``owner`` in its command line (ignored by the loop), so ``ps`` tells one stress run's
    hogs from another's on a shared machine, and a check that none outlived its run looks
    only for its own."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(processes):
            argv = [sys.executable, "-c", BUSY, *([owner] if owner else [])]
            busy = subprocess.Popen(argv, start_new_session=True)
            Reaper.get().track(busy.pid)
            started.append(busy)
        yield [busy.pid for busy in started]
    finally:
        for busy in started:
            kill_group(busy.pid, grace=2.0, first=signal.SIGKILL)
            busy.wait()
            Reaper.get().untrack(busy.pid)
