"""The harness's own Python servers as service kinds (the fault proxy, the mock API, the
extraction service): a module of ours run by our interpreter on a free loopback port,
ready when its ``check`` answers, or one already running at a URL. A kind says only its
module, how to check it, and the endpoint it answers as."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, ClassVar

from harness.services.base import ServiceError
from harness.services.code_digest import harness_code
from harness.services.kind import ServiceConfig, ServiceKind
from harness.services.local import Launch, LocalService
from harness.services.ports import LOOPBACK
from harness.services.privileges import ServiceUser
from harness.services.wait import NotReady


class OwnServer(LocalService):
    """``python -m <module> --port N [arguments]``, as us: our code needs no other user."""

    unprivileged = False
    bind_failure_markers = ("Address already in use", "address already in use")
    module: ClassVar[str]  # harness.mockapi.server
    what: ClassVar[str]  # "mock API server", for messages

    @classmethod
    def prepare(cls, config: Any, workdir: Path, user: ServiceUser) -> Any:
        return None

    @classmethod
    def arguments(cls, prepared: Any) -> list[str]:
        """Command-line arguments beyond the port, from what ``prepare`` returned."""
        return []

    @classmethod
    def check(cls, url: str) -> str:
        """Raise NotReady unless the server at ``url`` answers as this kind; its version."""
        raise NotImplementedError

    @classmethod
    def endpoint(cls, url: str, version: str, backend: str) -> Any:
        raise NotImplementedError

    @classmethod
    def local_version(cls) -> str:
        raise NotImplementedError

    @classmethod
    def launch(cls, prepared: Any, workdir: Path, port: int) -> Launch:
        url = f"http://{LOOPBACK}:{port}"
        return Launch(
            [sys.executable, "-m", cls.module, "--port", str(port), *cls.arguments(prepared)],
            {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(p for p in sys.path if p)},
            cls.endpoint(url, cls.local_version(), "local"),
            f"{cls.what} on {url}",
        )

    @classmethod
    def ready(cls, endpoint: Any) -> None:
        cls.check(endpoint.url)


class OwnServerKind(ServiceKind):
    """Local (``server.start``) or attached by URL (``config.url``)."""

    server: ClassVar[type[OwnServer]]

    def reuse_key(self, config: Any) -> str:
        """Our code is the server: another build of it is another server."""
        return f"local {self.name} code {harness_code()}"

    def start_local(self, config: ServiceConfig, *, detached: bool) -> OwnServer:
        return self.server.start(config, detached=detached)

    def attach(self, config: ServiceConfig) -> Any:
        url = str(getattr(config, "url", "") or "").rstrip("/")
        try:
            version = self.server.check(url)
        except (OSError, NotReady, ServiceError) as exc:
            raise ServiceError(f"no {self.server.what} answers at {url}: {exc}") from None
        return self.server.endpoint(url, version, "external")

    def probe(self, endpoint: Any) -> None:
        self.server.check(endpoint.url)

    def local_version(self, config: Any) -> str | None:
        return self.server.local_version()
