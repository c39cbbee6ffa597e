"""A local PostgreSQL server: initdb into a temp dir, 127.0.0.1 only, password auth."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg

from harness.services.base import PostgresEndpoint, Secret, ServiceError, ServiceStartError
from harness.services.ports import LOOPBACK, free_port, require_free
from harness.services.privileges import ServiceUser, hand_over, service_user
from harness.services.process import ServiceProcess
from harness.services.wait import NotReady, WaitFor
from harness.services.workdirs import Workdir

SUPERUSER = "harness"
BIND_FAILURE_MARKERS = ("could not bind", "Address already in use", "could not create any TCP/IP")


@dataclass
class PostgresSettings:
    bindir: str | None = None
    port: int | None = None
    startup_timeout: float = 60.0


def find_bindir(explicit: str | None = None) -> Path:
    """--pg-bindir / HARNESS_PG_BINDIR, then ``pg_config --bindir``, then the newest
    /usr/lib/postgresql/*/bin, then PATH."""
    explicit = explicit or os.environ.get("HARNESS_PG_BINDIR")
    candidates: list[Path] = []
    if explicit:
        candidates.append(Path(explicit))
    elif pg_config := shutil.which("pg_config"):
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    if not explicit:
        versions = sorted(
            Path("/usr/lib/postgresql").glob("*/bin"),
            key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
            reverse=True,
        )
        candidates += versions
        if initdb := shutil.which("initdb"):
            candidates.append(Path(initdb).resolve().parent)
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "postgres").exists():
            return candidate
    raise ServiceError(
        "PostgreSQL server binaries (initdb, postgres) not found"
        + (f" in {explicit}" if explicit else "")
        + "; install them (apt-get install postgresql) or set HARNESS_PG_BINDIR"
    )


def server_version(bindir: Path) -> str:
    out = subprocess.run(
        [str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"(\d+(?:\.\d+)?)", out)
    return match.group(1) if match else out.strip()


class LocalPostgres:
    name = "postgresql"
    backend = "local"

    def __init__(
        self, process: ServiceProcess, workdir: Workdir, endpoint: PostgresEndpoint
    ) -> None:
        self.process = process
        self.workdir = workdir
        self.endpoint = endpoint

    @classmethod
    def start(cls, settings: PostgresSettings, *, detached: bool = False) -> LocalPostgres:
        bindir = find_bindir(settings.bindir)
        version = server_version(bindir)
        user = service_user()
        password = Secret(secrets.token_urlsafe(24))
        workdir = Workdir.create("postgresql", watched=not detached)
        try:
            _initdb(bindir, workdir.path, user, password)
        except BaseException:
            workdir.remove()
            raise
        attempts = 1 if settings.port else 3
        for attempt in range(1, attempts + 1):
            try:
                return cls._start_once(settings, bindir, version, user, password, workdir, detached)
            except ServiceStartError as exc:
                if attempt == attempts or not any(m in exc.log_tail for m in BIND_FAILURE_MARKERS):
                    workdir.remove()
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def _start_once(
        cls,
        settings: PostgresSettings,
        bindir: Path,
        version: str,
        user: ServiceUser,
        password: Secret,
        workdir: Workdir,
        detached: bool,
    ) -> LocalPostgres:
        port = require_free(settings.port, "postgresql") if settings.port else free_port()
        argv = [
            str(bindir / "postgres"),
            "-D",
            str(workdir.path / "data"),
            "-c",
            f"listen_addresses={LOOPBACK}",
            "-c",
            f"port={port}",
            "-c",
            f"unix_socket_directories={workdir.path}",
            # Throwaway data: durability buys nothing and costs a lot of time.
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
        ]
        log_path = workdir.path / "console.log"
        process = ServiceProcess(
            "postgresql",
            argv,
            log_path=log_path,
            user=user,
            cwd=workdir.path,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"},
            stop_signal=signal.SIGINT,  # "fast" shutdown: roll back sessions, exit promptly
            watched=not detached,
        )
        if detached:
            workdir.set_owner(process.pid)
        endpoint = PostgresEndpoint(
            LOOPBACK, port, SUPERUSER, password, "postgres", version, "local"
        )
        try:
            WaitFor(
                f"PostgreSQL {version} on {LOOPBACK}:{port}",
                lambda: check_postgres(endpoint),
                timeout=settings.startup_timeout,
            ).run(exited=process.exit_code, log_tail=process.log_tail)
        except BaseException:
            process.stop(grace=10)
            raise
        return cls(process, workdir, endpoint)

    def log_tail(self, lines: int = 40) -> str:
        return self.process.log_tail(lines)

    def pids(self) -> list[int]:
        return self.process.tree()

    def stop(self) -> None:
        self.process.stop()
        self.workdir.remove()


def _initdb(bindir: Path, directory: Path, user: ServiceUser, password: Secret) -> None:
    pwfile = directory / "pwfile"
    pwfile.write_text(password.reveal() + "\n")
    os.chmod(pwfile, 0o600)
    hand_over(directory, user)
    try:
        proc = subprocess.run(
            [
                str(bindir / "initdb"),
                "-D",
                str(directory / "data"),
                "-U",
                SUPERUSER,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            cwd=directory,
            check=False,
            **user.popen_kwargs(),  # type: ignore[arg-type]
        )
    finally:
        pwfile.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise ServiceStartError(
            f"initdb failed with exit code {proc.returncode}", (proc.stdout + proc.stderr)[-4000:]
        )


def check_postgres(endpoint: PostgresEndpoint) -> None:
    try:
        with psycopg.connect(endpoint.dsn(), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        # psycopg's message can quote the conninfo; keep only its first line, never the DSN.
        raise NotReady(str(exc).splitlines()[0] if str(exc) else "connection failed") from None
