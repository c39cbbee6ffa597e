"""Service kind ``postgresql``: initdb into a temp dir and a server on 127.0.0.1 with a
generated password; a container; or the user's server by DSN."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg.conninfo import conninfo_to_dict

from harness import defaults
from harness.services.base import Secret, ServiceError, ServiceStartError
from harness.services.kind import ContainerSpec, ServiceConfig, option
from harness.services.local import Launch, LocalService
from harness.services.ports import LOOPBACK
from harness.services.privileges import ServiceUser, hand_over
from harness.services.sql_kind import SqlServerKind
from harness.services.wait import NotReady

SUPERUSER = "harness"
IMAGE = "postgres:{version}"
DEFAULT_IMAGE_VERSION = "16"


@dataclass(frozen=True)
class PostgresConfig(ServiceConfig):
    dsn: Secret | None = option(
        flag="--pg-dsn",
        env="HARNESS_PG_DSN",
        help="external PostgreSQL DSN (prefer the variable: options show in `ps`)",
        secret=True,
        external=True,
    )
    bindir: str | None = option(
        flag="--pg-bindir", env="HARNESS_PG_BINDIR", help="directory holding initdb and postgres"
    )
    port: int | None = option(env="HARNESS_PG_PORT", help="fixed local port", parse=int)
    startup_timeout: float = option(
        defaults.PG_STARTUP_TIMEOUT,
        env="HARNESS_PG_STARTUP_TIMEOUT",
        help="seconds to wait for a local server",
        parse=float,
    )


def find_bindir(explicit: str | None = None) -> Path:
    """--pg-bindir / HARNESS_PG_BINDIR, then ``pg_config --bindir``, then the newest
    /usr/lib/postgresql/*/bin, then PATH."""
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


@dataclass(frozen=True)
class PostgresEndpoint:
    host: str
    port: int
    user: str
    password: Secret = field(repr=False, metadata={"secret": True})
    dbname: str
    version: str
    backend: str

    def dsn(self, dbname: str | None = None) -> str:
        """The full connection URL, password included: pass it to drivers, never print it."""
        return (
            f"postgresql://{quote(self.user, safe='')}:{quote(self.password.reveal(), safe='')}"
            f"@{self.host}:{self.port}/{quote(dbname or self.dbname, safe='')}"
        )

    def redacted_dsn(self, dbname: str | None = None) -> str:
        return (
            f"postgresql://{quote(self.user, safe='')}:***@{self.host}:{self.port}/"
            f"{quote(dbname or self.dbname, safe='')}"
        )

    def location(self, reveal: bool = False) -> str:
        return self.dsn() if reveal else self.redacted_dsn()


@dataclass(frozen=True)
class _Prepared:
    bindir: Path
    version: str
    password: Secret


class LocalPostgres(LocalService):
    name = "postgresql"
    stop_signal = signal.SIGINT  # "fast" shutdown: roll back sessions, exit promptly
    bind_failure_markers = (
        "could not bind",
        "Address already in use",
        "could not create any TCP/IP",
    )

    @classmethod
    def prepare(cls, config: PostgresConfig, workdir: Path, user: ServiceUser) -> _Prepared:
        bindir = find_bindir(config.bindir)
        password = Secret(secrets.token_urlsafe(24))
        _initdb(bindir, workdir, user, password)
        return _Prepared(bindir, server_version(bindir), password)

    @classmethod
    def launch(cls, prepared: _Prepared, workdir: Path, port: int) -> Launch:
        settings = {
            "listen_addresses": LOOPBACK,
            "port": str(port),
            "unix_socket_directories": str(workdir),
            **defaults.PG_SERVER_SETTINGS,
        }
        argv = [str(prepared.bindir / "postgres"), "-D", str(workdir / "data")]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        endpoint = PostgresEndpoint(
            LOOPBACK, port, SUPERUSER, prepared.password, "postgres", prepared.version, "local"
        )
        return Launch(
            argv,
            {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"},
            endpoint,
            f"PostgreSQL {prepared.version} on {LOOPBACK}:{port}",
        )

    @classmethod
    def ready(cls, endpoint: PostgresEndpoint) -> None:
        check_postgres(endpoint)


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
            **user.popen_kwargs(),
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


def parse_dsn(dsn: Secret) -> PostgresEndpoint:
    try:
        parts = conninfo_to_dict(dsn.reveal())
    except Exception:
        raise ServiceError(
            "the PostgreSQL DSN given (--pg-dsn / HARNESS_PG_DSN) cannot be parsed"
        ) from None
    return PostgresEndpoint(
        host=str(parts.get("host", "127.0.0.1")),
        port=int(parts.get("port") or 5432),
        user=str(parts.get("user", "postgres")),
        password=Secret(str(parts.get("password", ""))),
        dbname=str(parts.get("dbname", "postgres")),
        version="?",
        backend="external",
    )


class PostgresKind(SqlServerKind):
    name = "postgresql"
    summary = "PostgreSQL: a local server (Debian's binaries), a container, or yours by DSN"
    config_class = PostgresConfig
    endpoint_class = PostgresEndpoint
    fixture_alias = "pg_endpoint"
    needed_by_default = True
    name_limit = 48  # identifiers stop at 63 bytes; fixtures add suffixes such as _reader

    label = "PostgreSQL"
    local_class = LocalPostgres

    def parse_dsn(self, dsn: Secret) -> PostgresEndpoint:
        return parse_dsn(dsn)

    def check(self, endpoint: PostgresEndpoint) -> None:
        check_postgres(endpoint)

    def version_of(self, endpoint: PostgresEndpoint) -> str:
        with psycopg.connect(endpoint.dsn(), connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]).split()[0] if row else "?"

    def local_server_version(self, bindir: str | None) -> str:
        return server_version(find_bindir(bindir))

    def container(self, config: PostgresConfig) -> tuple[ContainerSpec, Callable[[str, int], Any]]:
        password = Secret(secrets.token_urlsafe(24))
        spec = ContainerSpec(
            image=IMAGE.format(version=DEFAULT_IMAGE_VERSION),
            port=5432,
            env={
                "POSTGRES_USER": SUPERUSER,
                "POSTGRES_PASSWORD": password.reveal(),
                "POSTGRES_DB": "postgres",
            },
            command=["postgres"]
            + [arg for k, v in defaults.PG_SERVER_SETTINGS.items() for arg in ("-c", f"{k}={v}")],
        )
        return spec, lambda host, port: PostgresEndpoint(
            host, port, SUPERUSER, password, "postgres", DEFAULT_IMAGE_VERSION, "docker"
        )
