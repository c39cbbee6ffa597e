"""Service kind ``mockapi``: the harness's mock SaaS server (harness/mockapi/server.py), one
local process serving every registered API, a site per test. It is our own code and needs
no image, so the docker backend runs it locally too; ``--mockapi-url`` points at one
already running (on another machine, say)."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import defaults
from harness.services.base import ServiceError
from harness.services.http_endpoint import HttpEndpoint
from harness.services.kind import ServiceConfig, ServiceKind, option
from harness.services.local import Launch, LocalService
from harness.services.ports import LOOPBACK
from harness.services.privileges import ServiceUser
from harness.services.wait import NotReady


@dataclass(frozen=True)
class MockApiConfig(ServiceConfig):
    url: str | None = option(
        flag="--mockapi-url",
        env="HARNESS_MOCKAPI_URL",
        help="a mock API server already running (python -m harness.mockapi.server)",
        external=True,
    )
    port: int | None = option(env="HARNESS_MOCKAPI_PORT", help="fixed local port", parse=int)
    startup_timeout: float = option(
        defaults.MOCKAPI_STARTUP_TIMEOUT,
        env="HARNESS_MOCKAPI_STARTUP_TIMEOUT",
        help="seconds to wait for the mock server",
        parse=float,
    )


@dataclass(frozen=True)
class MockApiEndpoint(HttpEndpoint):
    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """One admin call (``/_admin/...``); a refusal raises with the server's reason."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + "/_admin" + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as exc:
            reason = exc.read().decode(errors="replace")[:500]
            raise ServiceError(f"mock API {method} /_admin{path}: {exc.code} {reason}") from None


def check_mockapi(url: str) -> str:
    try:
        with urllib.request.urlopen(url + "/_admin/version", timeout=3) as answer:
            return str(json.loads(answer.read())["version"])
    except (OSError, ValueError, KeyError) as exc:
        raise NotReady(f"{type(exc).__name__}: {exc}") from None


class LocalMockApi(LocalService):
    name = "mockapi"
    unprivileged = False  # our code, run by our interpreter
    bind_failure_markers = ("Address already in use", "address already in use")

    @classmethod
    def prepare(cls, config: MockApiConfig, workdir: Path, user: ServiceUser) -> None:
        return None

    @classmethod
    def launch(cls, prepared: None, workdir: Path, port: int) -> Launch:
        from harness.mockapi.server import VERSION

        url = f"http://{LOOPBACK}:{port}"
        return Launch(
            [sys.executable, "-m", "harness.mockapi.server", "--port", str(port)],
            {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(p for p in sys.path if p)},
            MockApiEndpoint(url, VERSION, "local"),
            f"mock API server on {url}",
        )

    @classmethod
    def ready(cls, endpoint: MockApiEndpoint) -> None:
        check_mockapi(endpoint.url)


class MockApiKind(ServiceKind):
    name = "mockapi"
    summary = "mock SaaS APIs (Confluence...): the harness's own server, a site per test"
    config_class = MockApiConfig
    endpoint_class = MockApiEndpoint
    local_only = True
    name_separator = "-"
    name_limit = 60

    def start_local(self, config: MockApiConfig, *, detached: bool) -> LocalMockApi:
        return LocalMockApi.start(config, detached=detached)

    def attach(self, config: MockApiConfig) -> MockApiEndpoint:
        assert config.url is not None
        url = config.url.rstrip("/")
        try:
            version = check_mockapi(url)
        except NotReady as exc:
            raise ServiceError(f"no mock API server answers at {url}: {exc}") from None
        return MockApiEndpoint(url, version, "external")

    def probe(self, endpoint: MockApiEndpoint) -> None:
        check_mockapi(endpoint.url)

    def reuse_key(self, config: MockApiConfig) -> str:
        from harness.mockapi.server import VERSION

        return f"local mockapi {VERSION}"

    def local_version(self, config: MockApiConfig) -> str | None:
        from harness.mockapi.server import VERSION

        return VERSION
