"""A test-only service kind: a tiny HTTP server (Python's http.server).

It exists to prove that a new kind needs this one module and one registration, nothing
else: load it with ``HARNESS_SERVICE_MODULES=tests.harness.http_kind``.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.services.base import ServiceError
from harness.services.kind import ContainerSpec, ServiceConfig, ServiceKind, option
from harness.services.local import Launch, LocalService
from harness.services.ports import LOOPBACK
from harness.services.privileges import ServiceUser, hand_over
from harness.services.registry import register

GREETING = "hello from the harness http kind\n"
# The service runs as the unprivileged user, who may not reach this interpreter (root's
# pyenv); the system one serves.
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


@dataclass(frozen=True)
class HttpEndpoint:
    url: str
    version: str
    backend: str

    def location(self, reveal: bool = False) -> str:
        return self.url


@dataclass(frozen=True)
class HttpConfig(ServiceConfig):
    url: str | None = option(
        flag="--http-url", env="HARNESS_HTTP_URL", help="an HTTP server you run", external=True
    )
    startup_timeout: float = option(
        20.0, env="HARNESS_HTTP_STARTUP_TIMEOUT", help="seconds to wait", parse=float
    )


def fetch(url: str) -> str:
    with urllib.request.urlopen(url + "/hello.txt", timeout=3) as response:
        return str(response.read().decode())


class LocalHttp(LocalService):
    name = "http"

    @classmethod
    def prepare(cls, config: HttpConfig, workdir: Path, user: ServiceUser) -> None:
        (workdir / "www").mkdir()
        (workdir / "www" / "hello.txt").write_text(GREETING)
        hand_over(workdir, user)

    @classmethod
    def launch(cls, prepared: None, workdir: Path, port: int) -> Launch:
        argv = [PYTHON, "-m", "http.server", "--bind", LOOPBACK, "-d"]
        url = f"http://{LOOPBACK}:{port}"
        return Launch(
            [*argv, str(workdir / "www"), str(port)],
            {"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            HttpEndpoint(url, f"python-{sys.version_info[0]}.{sys.version_info[1]}", "local"),
            f"http.server on {url}",
        )

    @classmethod
    def ready(cls, endpoint: HttpEndpoint) -> None:
        fetch(endpoint.url)


class HttpKind(ServiceKind):
    name = "http"
    summary = "a tiny HTTP server (test-only kind)"
    config_class = HttpConfig
    endpoint_class = HttpEndpoint

    def start_local(self, config: HttpConfig, *, detached: bool) -> LocalHttp:
        return LocalHttp.start(config, detached=detached)

    def attach(self, config: HttpConfig) -> HttpEndpoint:
        assert config.url is not None
        try:
            fetch(config.url)
        except OSError as exc:
            raise ServiceError(
                f"external http server at {config.url} is unreachable: {exc}"
            ) from None
        return HttpEndpoint(config.url, "?", "external")

    def container(self, config: HttpConfig) -> tuple[ContainerSpec, Callable[[str, int], Any]]:
        spec = ContainerSpec("python:3.12-slim", 8000, command=["python", "-m", "http.server"])
        return spec, lambda host, port: HttpEndpoint(f"http://{host}:{port}", "3.12", "docker")

    def probe(self, endpoint: HttpEndpoint) -> None:
        fetch(endpoint.url)


register(HttpKind)
