"""One set of services for all xdist workers, started only when a worker needs one.

The controller runs a broker thread. A worker that needs a kind the run has not started
yet leaves a request file; the broker starts that service (watched by the controller's
reaper, so it dies with the run) and records it in the run's state file; the worker
attaches to the record. Workers never stop shared services: the controller does, at the
end of the run.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from harness import environment
from harness.services.base import ServiceError
from harness.services.options import HarnessOptions
from harness.services.provider import provide
from harness.services.reuse import from_record, locked_state, read_state, to_record
from harness.services.wait import NotReady, WaitFor
from harness.services.workdirs import base_dir

# The key in xdist's workerinput, which only this run's own workers receive. An environment
# variable was inherited by every process a worker started too: a test's inner pytest then took
# itself for a worker and attached to the outer run's services instead of starting its own.
SHARED_INPUT = "harness_shared_state"
REQUEST_WAIT_SECONDS = 1800.0  # a first run may download Elasticsearch before starting it


def shared_state(config: Any) -> Path | None:
    """The run's state file, in a worker of an xdist run with a broker."""
    given = getattr(config, "workerinput", {}).get(SHARED_INPUT)
    return Path(given) if given else None


class ServiceBroker:
    """On the controller: starts requested services once, stops them at the end."""

    def __init__(self, options: HarnessOptions) -> None:
        self.options = options
        self.path = base_dir() / f"xdist-{os.getpid()}.json"
        self.requests = self.path.with_suffix(".requests")
        self.requests.mkdir(exist_ok=True)
        self.started: list[Any] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="harness-broker", daemon=True)
        # Workers are started after this and read the records through the state file; they
        # hear that they are workers of this broker through workerinput (hooks.py).
        os.environ[environment.STATE_FILE] = str(self.path)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.wait(0.05):
            for request in sorted(self.requests.iterdir()):
                self._start(request.name)
                request.unlink(missing_ok=True)

    def _start(self, name: str) -> None:
        if name in read_state():
            return
        try:
            service = provide(name, self.options)
        except Exception as exc:  # reported to every worker that asks
            with locked_state() as state:
                state[name] = {"error": f"{type(exc).__name__}: {exc}"}
            return
        self.started.append(service)
        with locked_state() as state:
            state[name] = to_record(service, f"xdist {name}")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for service in reversed(self.started):
            service.stop()
        for leftover in (self.path, self.path.with_suffix(".lock")):
            leftover.unlink(missing_ok=True)
        for request in self.requests.iterdir():
            request.unlink(missing_ok=True)
        self.requests.rmdir()


def attach_shared(name: str, path: Path) -> Any:
    """In a worker: the run's service of kind ``name``, asking the broker to start it."""
    if name not in read_state():
        (path.with_suffix(".requests") / name).touch()

    def recorded() -> dict[str, Any]:
        record = read_state().get(name)
        if record is None:
            raise NotReady(f"the xdist controller has not started {name} yet")
        return dict(record)

    record: dict[str, Any] = WaitFor(  # type: ignore[assignment]
        f"shared {name} from the xdist controller", recorded, REQUEST_WAIT_SECONDS
    ).run()
    if "error" in record:
        raise ServiceError(record["error"])
    return from_record(name, record)
