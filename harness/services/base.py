"""Endpoints, secrets and errors shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote, urlsplit, urlunsplit


class Secret:
    """A string that never shows itself in repr, str, logs or exception messages."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class ServiceError(RuntimeError):
    """A service could not be provided; the message says which and why."""


class ServiceStartError(ServiceError):
    """A service did not become ready; carries the tail of its log."""

    def __init__(self, message: str, log_tail: str = "") -> None:
        self.log_tail = log_tail
        shown = log_tail.rstrip() or "(empty: the service had not written to its log yet)"
        super().__init__(f"{message}\n--- last lines of the service log ---\n{shown}")


class PortInUseError(ServiceError):
    """An explicitly requested port is already taken on 127.0.0.1."""


@dataclass(frozen=True)
class ElasticsearchEndpoint:
    url: str
    version: str
    backend: str
    username: str | None = None
    password: Secret | None = field(default=None, repr=False)

    def redacted_url(self) -> str:
        return redact_url(self.url)

    def basic_auth(self) -> tuple[str, str] | None:
        if self.username is None or self.password is None:
            return None
        return (self.username, self.password.reveal())


@dataclass(frozen=True)
class PostgresEndpoint:
    host: str
    port: int
    user: str
    password: Secret = field(repr=False)
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


def redact_url(url: str) -> str:
    """Replace any password in a URL with ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


class RunningService(Protocol):
    """What every backend hands back for a started (or attached) service."""

    name: str
    backend: str

    def stop(self) -> None: ...

    def log_tail(self, lines: int = 40) -> str: ...

    def pids(self) -> list[int]: ...
