"""The lifecycle every locally run service shares: a work dir, a free port (retried if
another process takes it first), its own process group, a readiness wait that shows the
log tail, and a stop that leaves nothing behind.

A kind's local service subclasses ``LocalService`` and says only what differs: what to
prepare once (``prepare``), how to launch on a port (``launch``) and when it is ready.
"""

from __future__ import annotations

import signal
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

from harness.environment import HarnessEnvironment
from harness.load import Load
from harness.services.base import ServiceError, ServiceStartError
from harness.services.ports import claim_port, require_free
from harness.services.privileges import ServiceUser, current_user, service_user
from harness.services.process import ServiceProcess
from harness.services.wait import NotReady, WaitFor
from harness.services.workdirs import Workdir

PORT_ATTEMPTS = 3


@dataclass
class Launch:
    """One attempt to run the service on a port."""

    argv: list[str]
    env: dict[str, str]
    endpoint: Any  # where it will answer (version may still be a placeholder)
    what: str  # "PostgreSQL 15 on 127.0.0.1:5432", for errors
    # The name the server gives itself (``answers_as``), where it has one: another server
    # that took the port while this one was down is then not taken for it.
    identity: str | None = None


@dataclass(frozen=True)
class _Relaunch:
    """What ``restart`` needs to run the service again on its data dir and port."""

    config: Any
    prepared: Any
    user: ServiceUser
    port: int
    detached: bool


class LocalService(ABC):
    name: ClassVar[str]
    backend = "local"
    stop_signal: ClassVar[int] = signal.SIGTERM
    bind_failure_markers: ClassVar[tuple[str, ...]] = ("Address already in use",)
    # Servers (Elasticsearch, PostgreSQL) refuse root: they run as HARNESS_SERVICE_USER.
    # Our own code (the fault proxy) runs as us, with our interpreter.
    unprivileged: ClassVar[bool] = True

    def __init__(
        self,
        process: ServiceProcess,
        workdir: Workdir,
        endpoint: Any,
        relaunch: _Relaunch | None = None,
    ) -> None:
        self.process = process
        self.workdir = workdir
        self.endpoint = endpoint
        self._relaunch = relaunch

    # -- what a kind fills in -----------------------------------------------------------

    @classmethod
    @abstractmethod
    def prepare(cls, config: Any, workdir: Path, user: ServiceUser) -> Any:
        """One-time setup in the work dir (initdb, config files); returns what ``launch``
        needs. Runs before any port is chosen."""

    @classmethod
    @abstractmethod
    def launch(cls, prepared: Any, workdir: Path, port: int) -> Launch: ...

    @classmethod
    @abstractmethod
    def ready(cls, endpoint: Any) -> Any:
        """Return (the final endpoint, or None to keep it) once the service answers;
        raise ``NotReady`` or ``OSError`` until then."""

    # -- shared lifecycle -------------------------------------------------------------

    @classmethod
    def start(cls, config: Any, *, detached: bool = False) -> Self:
        """Start and wait until ready. ``detached`` services outlive this process (reuse):
        the reaper does not watch them and their work dir belongs to the service."""
        user = service_user() if cls.unprivileged else current_user()
        workdir = Workdir.create(cls.name, watched=not detached)
        try:
            prepared = cls.prepare(config, workdir.path, user)
            wanted = getattr(config, "port", None)
            attempts = 1 if wanted else PORT_ATTEMPTS
            for attempt in range(1, attempts + 1):
                port = require_free(wanted, cls.name) if wanted else claim_port(workdir.path)
                try:
                    return cls._run(config, prepared, workdir, user, port, detached)
                except ServiceStartError as exc:
                    taken = any(m in exc.log_tail for m in cls.bind_failure_markers)
                    if attempt == attempts or not taken:
                        raise
            raise AssertionError("unreachable")
        except BaseException:
            workdir.remove()
            raise

    @classmethod
    def _run(
        cls,
        config: Any,
        prepared: Any,
        workdir: Workdir,
        user: ServiceUser,
        port: int,
        detached: bool,
    ) -> Self:
        how = _Relaunch(config, prepared, user, port, detached)
        process, endpoint = cls._launch_and_wait(how, workdir)
        return cls(process, workdir, endpoint, how)

    @classmethod
    def _launch_and_wait(cls, how: _Relaunch, workdir: Workdir) -> tuple[ServiceProcess, Any]:
        launch = cls.launch(how.prepared, workdir.path, how.port)
        process = ServiceProcess(
            cls.name,
            launch.argv,
            log_path=workdir.path / "console.log",
            env=launch.env,
            user=how.user,
            cwd=workdir.path,
            stop_signal=cls.stop_signal,
            watched=not how.detached,
        )
        if how.detached:  # the dir lives as long as the service, not as long as this process
            workdir.set_owner(HarnessEnvironment.current().services_owner or process.pid)
        load = Load.now()  # a slow start on a starved machine is not a broken server
        what = launch.what if load.factor == 1 else f"{launch.what} (deadline {load.says()})"
        try:
            final = WaitFor(
                what,
                lambda: cls._ready_as_itself(launch),
                timeout=load.scaled(float(how.config.startup_timeout)),
            ).run(exited=process.exit_code, log_tail=process.log_tail)
        except BaseException:
            process.stop(grace=10)
            raise
        return process, final if final is not None else launch.endpoint

    @classmethod
    def _ready_as_itself(cls, launch: Launch) -> Any:
        if launch.identity is not None:
            found = cls.answers_as(launch.endpoint)
            if found != launch.identity:
                raise NotReady(
                    f"the port answers as {found!r}, not as {launch.identity!r}: another "
                    "server holds it, and this one will fail to bind"
                )
        return cls.ready(launch.endpoint)

    @classmethod
    def answers_as(cls, endpoint: Any) -> str | None:
        """The name the server at ``endpoint`` reports, for kinds whose launch sets an
        ``identity``."""
        return None

    # -- faults: what a crash, a hang or a restart does to the service -----------------

    def pause(self) -> None:
        """Freeze every process (SIGSTOP): connections stay open and nothing answers, as
        with a long GC pause or a hung host."""
        self.process.signal_tree(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.signal_tree(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: the data dir is kept for ``restart``."""
        self.process.kill()

    def restart(self) -> None:
        """Run the service again on the same data dir and port (after ``kill``, or a
        graceful ``process.stop``), and wait until it answers."""
        if self._relaunch is None:
            raise ServiceError(f"{self.name} cannot be restarted: it was not started here")
        if self.process.group_alive():
            raise ServiceError(f"{self.name} is still running: kill() it before restart()")
        self.process, self.endpoint = self._launch_and_wait(self._relaunch, self.workdir)

    def log_tail(self, lines: int = 40) -> str:
        return self.process.log_tail(lines)

    def pids(self) -> list[int]:
        return self.process.tree()

    def stop(self) -> None:
        self.process.stop()
        self.workdir.remove()
