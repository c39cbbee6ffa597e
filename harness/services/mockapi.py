"""Service kind ``mockapi``: the harness's mock SaaS server (harness/mockapi/server.py), one
local process serving every registered API, a site per test. It is our own code and needs
no image, so the docker backend runs it locally too; ``--mockapi-url`` points at one
already running (on another machine, say)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from harness import defaults
from harness.services.base import ServiceError
from harness.services.code_digest import harness_code
from harness.services.http_endpoint import HttpEndpoint
from harness.services.kind import ServiceConfig, option
from harness.services.own_server import OwnServer, OwnServerKind
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


class LocalMockApi(OwnServer):
    name = "mockapi"
    module = "harness.mockapi.server"
    what = "mock API server"

    @classmethod
    def check(cls, url: str) -> str:
        try:
            with urllib.request.urlopen(url + "/_admin/version", timeout=3) as answer:
                return str(json.loads(answer.read())["version"])
        except (OSError, ValueError, KeyError) as exc:
            raise NotReady(f"{type(exc).__name__}: {exc}") from None

    @classmethod
    def endpoint(cls, url: str, version: str, backend: str) -> MockApiEndpoint:
        return MockApiEndpoint(url, version, backend)

    @classmethod
    def local_version(cls) -> str:
        from harness.mockapi.server import VERSION

        return VERSION


class MockApiKind(OwnServerKind):
    name = "mockapi"
    summary = "mock SaaS APIs (Confluence...): the harness's own server, a site per test"
    config_class = MockApiConfig
    endpoint_class = MockApiEndpoint
    local_only = True
    name_separator = "-"
    name_limit = 60
    server = LocalMockApi

    def reuse_key(self, config: MockApiConfig) -> str:
        return f"local mockapi {LocalMockApi.local_version()} code {harness_code()}"
