"""What the harness knows about one kind of service, declared once.

A ``ServiceKind`` says how to start the service locally, how to run it in Docker, how to
attach to an instance the user runs, how to tell that it answers, and which options and
environment variables configure it. Everything else -- pytest options and fixtures,
``harness up/status/down``, reuse across runs, xdist sharing -- is derived from it.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from harness.services.base import Secret, ServiceError

C = TypeVar("C", bound="ServiceConfig")


@dataclass(frozen=True)
class OptionSpec:
    """One setting of a service: a pytest/CLI flag (optional), an environment variable,
    and an ini key, resolved in that order, then the default."""

    field: str
    flag: str | None
    env: str
    help: str
    secret: bool = False
    external: bool = False  # when set, the service is attached to, not started
    parse: Callable[[str], Any] = str
    boolean: bool = False  # a switch: the flag takes no value, the variable is 1/true/yes/on

    def add_to(self, add_option: Callable[..., Any], dest: str) -> None:
        """Declare the flag on an argparse parser or a pytest option group."""
        if self.flag is None:
            return
        help_text = f"{self.help} (env {self.env})"
        if self.boolean:
            add_option(self.flag, dest=dest, action="store_true", default=None, help=help_text)
        else:
            add_option(self.flag, dest=dest, default=None, metavar="VALUE", help=help_text)


def truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def option(
    default: Any = None,
    *,
    flag: str | None = None,
    env: str,
    help: str,
    secret: bool = False,
    external: bool = False,
    parse: Callable[[str], Any] = str,
    boolean: bool = False,
) -> Any:
    """A config field that is also a user-facing option."""
    meta: dict[str, Any] = {"flag": flag, "env": env, "help": help, "secret": secret}
    meta["external"] = external
    meta |= {"parse": truthy if boolean else parse, "boolean": boolean}
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True)
class ServiceConfig:
    """Base of every kind's frozen config; subclasses declare fields with ``option``."""

    @classmethod
    def specs(cls) -> list[OptionSpec]:
        return [
            OptionSpec(
                f.name,
                f.metadata["flag"],
                f.metadata["env"],
                f.metadata["help"],
                f.metadata["secret"],
                f.metadata["external"],
                f.metadata["parse"],
                f.metadata["boolean"],
            )
            for f in dataclasses.fields(cls)
            if "env" in f.metadata
        ]

    @classmethod
    def resolve(cls: type[C], lookup: Callable[[OptionSpec], str | None]) -> C:
        """Build the config: ``lookup`` answers each option from flag, env or ini."""
        values: dict[str, Any] = {}
        for spec in cls.specs():
            raw = lookup(spec)
            if raw is None or raw == "":
                continue
            try:
                value = spec.parse(raw) if isinstance(raw, str) else raw
            except ValueError:
                shown = "***" if spec.secret else repr(raw)
                raise ServiceError(
                    f"{spec.flag or spec.env}: cannot use {shown} ({spec.help})"
                ) from None
            values[spec.field] = Secret(value) if spec.secret and isinstance(value, str) else value
        return cls(**values)

    def external_target(self) -> Any:
        """The value that points at a user-run instance (a URL, a DSN), if one was given."""
        for spec in self.specs():
            if spec.external and getattr(self, spec.field) is not None:
                return getattr(self, spec.field)
        return None


class Endpoint(Protocol):
    """How tests reach a service; every kind's endpoint dataclass has these."""

    version: str
    backend: str

    def location(self, reveal: bool = False) -> str:
        """Where it is, for humans: secrets masked unless ``reveal``."""
        ...


@runtime_checkable
class RunningService(Protocol):
    """What every backend hands back for a started, attached or reused service."""

    name: str
    backend: str
    endpoint: Any

    def stop(self) -> None: ...

    def log_tail(self, lines: int = 40) -> str: ...

    def pids(self) -> list[int]: ...


@runtime_checkable
class DisruptableService(RunningService, Protocol):
    """A service the harness started itself, so it may freeze, crash and restart it:
    local processes and containers; never a user's own or a shared instance."""

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def kill(self) -> None: ...

    def restart(self) -> None:
        """Again on the same data; the endpoint is read afresh."""
        ...


@dataclass(frozen=True)
class ContainerSpec:
    """A container for the docker backend: plain data, unit-testable without an engine."""

    image: str
    port: int
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    command: list[str] | None = None


class ServiceKind(ABC):
    """One kind of service. Subclass, fill in the class attributes, register it."""

    name: ClassVar[str]  # "postgresql": the registry key, fixture and record name
    summary: ClassVar[str]  # one line for --help and `harness up --services`
    config_class: ClassVar[type[ServiceConfig]]
    endpoint_class: ClassVar[type]
    fixture_alias: ClassVar[str | None] = None  # an extra endpoint fixture name, e.g. "pg_endpoint"
    needed_by_default: ClassVar[bool] = False  # what `harness up` starts when not told
    local_only: ClassVar[bool] = False  # no container: the docker backend runs it locally
    # Names the harness creates in this service (indices, schemas, buckets): the characters
    # allowed besides [a-z0-9], as separator, and the longest name, leaving room for
    # what a fixture derives from it (a role named after a schema...).
    name_separator: ClassVar[str] = "_"
    name_limit: ClassVar[int] = 63

    # -- starting ---------------------------------------------------------------------

    @abstractmethod
    def start_local(self, config: Any, *, detached: bool) -> Any:
        """A ``LocalService`` subclass instance, ready."""

    @abstractmethod
    def attach(self, config: Any) -> Any:
        """The endpoint of the user's own instance (``config.external_target()``),
        after checking that it answers; raise ServiceError naming where it looked."""

    def container(self, config: Any) -> tuple[ContainerSpec, Callable[[str, int], Any]]:
        """The docker backend's spec and how to build the endpoint from the published
        (host, port). Kinds without an image raise."""
        raise ServiceError(f"{self.name} has no Docker image; use the local backend")

    # -- talking to it ----------------------------------------------------------------

    @abstractmethod
    def probe(self, endpoint: Any) -> None:
        """Return when the service answers; raise ``NotReady`` (or OSError) otherwise."""

    def reuse_key(self, config: Any) -> str:
        """What must match for a recorded service to be reused (version, binaries...)."""
        return f"local {self.name}"

    def local_version(self, config: Any) -> str | None:
        """The version a local start would run, for the header, without starting it."""
        return None

    # -- records (reuse, xdist sharing) ----------------------------------------------

    def endpoint_record(self, endpoint: Any) -> dict[str, Any]:
        """Every field of the endpoint, secrets revealed: the state file is mode 0600."""
        record: dict[str, Any] = {}
        for f in dataclasses.fields(endpoint):
            value = getattr(endpoint, f.name)
            record[f.name] = value.reveal() if isinstance(value, Secret) else value
        return record

    def endpoint_from_record(self, record: dict[str, Any]) -> Any:
        values = {}
        for f in dataclasses.fields(self.endpoint_class):
            if f.name not in record:
                continue
            value = record[f.name]
            values[f.name] = Secret(value) if f.metadata.get("secret") and value else value
        return self.endpoint_class(**values)
