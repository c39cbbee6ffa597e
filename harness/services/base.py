"""Secrets and errors shared by every service kind and backend."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


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


class NoPrivateInstance(ServiceError):
    """The backend cannot give a scenario an instance of its own to disrupt (external: the
    user's cluster). The one reason a disruptive scenario is skipped: a private instance
    that fails to start is an error, or a broken connector would pass by a skip."""


class PortInUseError(ServiceError):
    """An explicitly requested port is already taken on 127.0.0.1."""


def redact_url(url: str) -> str:
    """Replace any password in a URL with ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))
