"""Subject processes (``connectors sync``, a command subject, a service under test) that
cannot outlive the run that started them.

Each starts in a session of its own, and its group is handed to the service reaper for
as long as it runs: a pytest killed with SIGKILL (no teardown) gets its subjects stopped
as its services are (a ``connectors`` started by a killed run was still running 60 s
later). A subject that ends is untracked at once, so the reaper never signals a group
whose number the kernel gave to someone else."""

from __future__ import annotations

import subprocess
import threading
from typing import Any

from harness.services.reaper import Reaper


def start_guarded(argv: Any, **popen: Any) -> subprocess.Popen[str]:
    """``subprocess.Popen`` of a subject, watched by the reaper until it exits."""
    process: subprocess.Popen[str] = subprocess.Popen(argv, start_new_session=True, **popen)
    Reaper.get().track(process.pid)
    threading.Thread(target=_untrack_on_exit, args=(process,), daemon=True).start()
    return process


def run_guarded(argv: Any, *, timeout: float, **popen: Any) -> subprocess.CompletedProcess[str]:
    """``subprocess.run`` of a subject (output captured), watched by the reaper; killed on
    a timeout or an interrupt, as ``subprocess.run`` does."""
    process = start_guarded(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)
    try:
        out, err = process.communicate(timeout=timeout)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def _untrack_on_exit(process: subprocess.Popen[str]) -> None:
    process.wait()
    Reaper.get().untrack(process.pid)  # the reaper of now: a replaced one inherited it
