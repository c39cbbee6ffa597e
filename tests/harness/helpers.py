"""Condition waits for the harness's own tests (no sleeps as synchronisation)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.load import Load


def wait_until(
    condition: Callable[[], object], timeout: float, what: str, log: Path | None = None
) -> None:
    """Poll ``condition`` until it holds. The deadline scales with the measured load
    (harness.load): under load 20 on two cores a sync of the big connector outlasted a
    fixed 240 s while doing nothing wrong."""
    load = Load.now()
    deadline = time.monotonic() + load.scaled(timeout)
    while not condition():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            longer = f" ({load.says()})" if load.factor > 1 else ""
            raise AssertionError(
                f"timed out after {load.scaled(timeout):.0f}s{longer} waiting for {what}\n{tail}"
            )
        time.sleep(0.05)


def uid_of(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphaned zombie may linger if init does not reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


INHERITED_XDIST = ("PYTEST_XDIST_",)


@contextmanager
def private_service_state(directory: Path) -> Iterator[dict[str, str]]:
    """A state file of our own for inner runs with --reuse-services, so they share one set
    of services; whatever got recorded there is stopped at the end. The services belong
    to this process: if it is killed before the end, its reaper stops them."""
    from harness.environment import SERVICES_OWNER
    from harness.services.provider import shutdown_recorded
    from harness.services.reaper import Reaper

    previous = os.environ.get("HARNESS_STATE_FILE")
    os.environ["HARNESS_STATE_FILE"] = str(directory / "services.json")
    os.environ[SERVICES_OWNER] = str(os.getpid())
    Reaper.get().sweep_at_exit()
    try:
        # An inner run is a pytest of its own, not one of this run's xdist workers: with
        # the worker's variables, pytest-benchmark took it for one and disabled itself.
        yield {k: v for k, v in os.environ.items() if not k.startswith(INHERITED_XDIST)}
    finally:
        shutdown_recorded()
        os.environ.pop(SERVICES_OWNER, None)
        if previous is None:
            os.environ.pop("HARNESS_STATE_FILE", None)
        else:
            os.environ["HARNESS_STATE_FILE"] = previous
