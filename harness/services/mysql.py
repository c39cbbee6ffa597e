"""Service kind ``mysql``: MariaDB from Debian (``mariadb-install-db`` into a temp dir,
``mariadbd`` on 127.0.0.1 with a generated password for a non-root account); a
``mariadb:11`` or ``mysql:8.4`` container; or yours by DSN."""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from harness import defaults
from harness.services.base import Secret, ServiceError, ServiceStartError
from harness.services.kind import ContainerSpec, ServiceConfig, option
from harness.services.local import Launch, LocalService
from harness.services.ports import LOOPBACK
from harness.services.privileges import ServiceUser, hand_over
from harness.services.sql_kind import SqlServerKind
from harness.services.wait import NotReady

ACCOUNT = "harness"  # the non-root account tests and connectors use
DATABASE = "harness"
IMAGES = ("mariadb:11", "mysql:8.4")


@dataclass(frozen=True)
class MySQLConfig(ServiceConfig):
    dsn: Secret | None = option(
        flag="--mysql-dsn",
        env="HARNESS_MYSQL_DSN",
        help="external MySQL/MariaDB as mysql://user:password@host:port/database "
        "(prefer the variable: options show in `ps`)",
        secret=True,
        external=True,
    )
    bindir: str | None = option(
        flag="--mysql-bindir",
        env="HARNESS_MYSQL_BINDIR",
        help="directory holding mariadbd and mariadb-install-db",
    )
    image: str = option(
        IMAGES[0], env="HARNESS_MYSQL_IMAGE", help=f"docker image: {' or '.join(IMAGES)}"
    )
    port: int | None = option(env="HARNESS_MYSQL_PORT", help="fixed local port", parse=int)
    startup_timeout: float = option(
        defaults.MYSQL_STARTUP_TIMEOUT,
        env="HARNESS_MYSQL_STARTUP_TIMEOUT",
        help="seconds to wait for a local server",
        parse=float,
    )


@dataclass(frozen=True)
class MySQLEndpoint:
    host: str
    port: int
    user: str
    password: Secret = field(repr=False, metadata={"secret": True})
    database: str
    version: str
    backend: str

    def dsn(self) -> str:
        """The full URL, password included: pass it to drivers, never print it."""
        secret = quote(self.password.reveal(), safe="")
        return (
            f"mysql://{quote(self.user, safe='')}:{secret}@{self.host}:{self.port}/{self.database}"
        )

    def redacted_dsn(self) -> str:
        return f"mysql://{quote(self.user, safe='')}:***@{self.host}:{self.port}/{self.database}"

    def location(self, reveal: bool = False) -> str:
        return self.dsn() if reveal else self.redacted_dsn()

    def connect(self, timeout: float = 5.0) -> Any:
        import pymysql

        return pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password.reveal(),
            database=self.database,
            connect_timeout=timeout,
            charset="utf8mb4",
            autocommit=True,
            local_infile=True,
            # PyMySQL 1.2 tries TLS unless told not to and builds a context (the system's
            # CAs, 117 ms of CPU) for every connection: half the MySQL suite's pytest CPU.
            # Ours have no TLS to offer; a server of yours keeps the driver's default.
            ssl_disabled=True if self.backend != "external" else None,
        )


def find_binaries(explicit: str | None = None) -> tuple[Path, Path]:
    """(mariadbd, mariadb-install-db): --mysql-bindir, then /usr/sbin and /usr/bin, then PATH."""
    places = [Path(explicit)] if explicit else [Path("/usr/sbin"), Path("/usr/bin")]
    server = _first(places, ("mariadbd", "mysqld"))
    install = _first(places, ("mariadb-install-db", "mysql_install_db"))
    if server is None or install is None:
        raise ServiceError(
            "MariaDB server binaries (mariadbd, mariadb-install-db) not found"
            + (f" in {explicit}" if explicit else "")
            + "; install them (apt-get install mariadb-server) or set HARNESS_MYSQL_BINDIR"
        )
    return server, install


def _first(places: list[Path], names: tuple[str, ...]) -> Path | None:
    for name in names:
        for place in places:
            if (place / name).exists():
                return place / name
        if found := shutil.which(name):
            return Path(found)
    return None


def server_version(server: Path) -> str:
    out = subprocess.run([str(server), "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"Ver\s+(\d+\.\d+\.\d+)", out.stdout + out.stderr)
    return match.group(1) if match else "?"


@dataclass(frozen=True)
class _Prepared:
    server: Path
    version: str
    password: Secret


class LocalMySQL(LocalService):
    name = "mysql"
    bind_failure_markers = ("Address already in use", "Do you already have another")

    @classmethod
    def prepare(cls, config: MySQLConfig, workdir: Path, user: ServiceUser) -> _Prepared:
        server, install = find_binaries(config.bindir)
        password = Secret(secrets.token_urlsafe(24))
        (workdir / "data").mkdir()
        (workdir / "tmp").mkdir()
        # Run at every start (restart too): the account and database, idempotently.
        escaped = password.reveal().replace("\\", "\\\\").replace("'", "\\'")
        (workdir / "init.sql").write_text(
            f"CREATE DATABASE IF NOT EXISTS {DATABASE} CHARACTER SET utf8mb4;\n"
            f"CREATE USER IF NOT EXISTS '{ACCOUNT}'@'127.0.0.1' IDENTIFIED BY '{escaped}';\n"
            f"GRANT ALL PRIVILEGES ON *.* TO '{ACCOUNT}'@'127.0.0.1' WITH GRANT OPTION;\n"
        )
        (workdir / "init.sql").chmod(0o600)
        hand_over(workdir, user)
        done = subprocess.run(
            [
                str(install),
                "--no-defaults",
                f"--datadir={workdir / 'data'}",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ],
            capture_output=True,
            text=True,
            cwd=workdir,
            check=False,
            **user.popen_kwargs(),
        )
        if done.returncode != 0:
            raise ServiceStartError(
                f"mariadb-install-db failed with exit code {done.returncode}",
                (done.stdout + done.stderr)[-4000:],
            )
        return _Prepared(server, server_version(server), password)

    @classmethod
    def launch(cls, prepared: _Prepared, workdir: Path, port: int) -> Launch:
        argv = [
            str(prepared.server),
            "--no-defaults",
            f"--datadir={workdir / 'data'}",
            f"--tmpdir={workdir / 'tmp'}",
            f"--socket={workdir / 'mysqld.sock'}",
            f"--pid-file={workdir / 'mysqld.pid'}",
            f"--init-file={workdir / 'init.sql'}",
            f"--port={port}",
            f"--bind-address={LOOPBACK}",
            *(f"--{key}={value}" for key, value in defaults.MYSQL_SERVER_SETTINGS.items()),
        ]
        endpoint = MySQLEndpoint(
            LOOPBACK, port, ACCOUNT, prepared.password, DATABASE, prepared.version, "local"
        )
        return Launch(
            argv,
            {"PATH": "/usr/sbin:/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": defaults.SOURCE_TIMEZONE},
            endpoint,
            f"MariaDB {prepared.version} on {LOOPBACK}:{port}",
        )

    @classmethod
    def ready(cls, endpoint: MySQLEndpoint) -> None:
        check_mysql(endpoint)


def check_mysql(endpoint: MySQLEndpoint) -> None:
    import pymysql

    try:
        with endpoint.connect(timeout=3) as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
    except pymysql.MySQLError as exc:
        raise NotReady(f"{type(exc).__name__}: {exc.args[-1] if exc.args else ''}") from None


def parse_dsn(dsn: Secret) -> MySQLEndpoint:
    parts = urlsplit(dsn.reveal())
    if parts.scheme not in ("mysql", "mariadb") or not parts.hostname:
        raise ServiceError(
            "the MySQL DSN given (--mysql-dsn / HARNESS_MYSQL_DSN) is not "
            "mysql://user:password@host:port/database"
        )
    return MySQLEndpoint(
        host=parts.hostname,
        port=parts.port or 3306,
        user=unquote(parts.username or "root"),
        password=Secret(unquote(parts.password or "")),
        database=parts.path.lstrip("/") or DATABASE,
        version="?",
        backend="external",
    )


class MySQLKind(SqlServerKind):
    name = "mysql"
    summary = "MySQL/MariaDB: a local MariaDB (Debian's), a container, or yours by DSN"
    config_class = MySQLConfig
    endpoint_class = MySQLEndpoint
    name_limit = 48  # identifiers stop at 64 characters; fixtures add suffixes

    label = "MySQL"
    local_class = LocalMySQL

    def parse_dsn(self, dsn: Secret) -> MySQLEndpoint:
        return parse_dsn(dsn)

    def check(self, endpoint: MySQLEndpoint) -> None:
        check_mysql(endpoint)

    def version_of(self, endpoint: MySQLEndpoint) -> str:
        with endpoint.connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            row = cur.fetchone()
        return str(row[0]).split("-")[0] if row else "?"

    def local_server_version(self, bindir: str | None) -> str:
        return server_version(find_binaries(bindir)[0])

    def container(self, config: MySQLConfig) -> tuple[ContainerSpec, Callable[[str, int], Any]]:
        if config.image.split(":")[0] not in ("mariadb", "mysql"):
            raise ServiceError(f"HARNESS_MYSQL_IMAGE={config.image!r}: use {' or '.join(IMAGES)}")
        prefix = "MARIADB" if config.image.startswith("mariadb") else "MYSQL"
        password = Secret(secrets.token_urlsafe(24))
        spec = ContainerSpec(
            image=config.image,
            port=3306,
            # The image's own account may use one database only; fixtures create a
            # database and a reader per test. In a throwaway container that takes root,
            # with a generated password.
            env={
                f"{prefix}_ROOT_PASSWORD": password.reveal(),
                f"{prefix}_DATABASE": DATABASE,
                "TZ": defaults.SOURCE_TIMEZONE,
            },
            command=[f"--{k}={v}" for k, v in defaults.MYSQL_SERVER_SETTINGS.items()],
        )
        version = config.image.split(":", 1)[1] if ":" in config.image else "?"
        return spec, lambda host, port: MySQLEndpoint(
            host, port, "root", password, DATABASE, version, "docker"
        )
