"""The middle layer of the SQL service kinds (PostgreSQL, MySQL/MariaDB), as
testcontainers has one for databases: a local server from the system's binaries, or
the user's own by DSN, checked before use and asked its version. A kind says how to
parse its DSN, check it, ask its version and find its local binaries."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from harness.services.base import Secret, ServiceError
from harness.services.kind import ServiceKind
from harness.services.local import LocalService
from harness.services.wait import NotReady


class SqlServerKind(ServiceKind):
    label: ClassVar[str]  # "PostgreSQL", for messages
    local_class: ClassVar[type[LocalService]]

    # -- what a SQL kind says ------------------------------------------------------------

    def parse_dsn(self, dsn: Secret) -> Any:
        raise NotImplementedError

    def check(self, endpoint: Any) -> None:
        """Raise NotReady unless the server answers a query."""
        raise NotImplementedError

    def version_of(self, endpoint: Any) -> str:
        raise NotImplementedError

    def local_server_version(self, bindir: str | None) -> str:
        """The version of the local binaries (raise ServiceError or OSError if none)."""
        raise NotImplementedError

    # -- what they share -----------------------------------------------------------------

    def start_local(self, config: Any, *, detached: bool) -> Any:
        return self.local_class.start(config, detached=detached)

    def attach(self, config: Any) -> Any:
        assert config.dsn is not None
        endpoint = self.parse_dsn(config.dsn)
        try:
            self.check(endpoint)
        except NotReady as exc:
            raise ServiceError(
                f"external {self.label} at {endpoint.redacted_dsn()} is unreachable: {exc}"
            ) from None
        return replace(endpoint, version=self.version_of(endpoint))

    def probe(self, endpoint: Any) -> None:
        self.check(endpoint)

    def reuse_key(self, config: Any) -> str:
        return f"local {self.name} {config.bindir or ''}".strip()

    def local_version(self, config: Any) -> str | None:
        try:
            return self.local_server_version(config.bindir)
        except (ServiceError, OSError):
            return None
