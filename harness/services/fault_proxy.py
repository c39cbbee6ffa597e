"""The fault proxy as a service kind: a process hosting fault proxies that its control API
creates and switches (harness/faults/serve.py), for faults driven from outside the test
process -- ``harness up --services fault_proxy``, a shell, another suite. Scenarios in the
test process use ``harness.faults.FaultProxy`` directly, which needs no service.

It relays to ports published on 127.0.0.1 whatever backend serves them, so it has no
container of its own: the docker backend runs it locally too."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.faults.remote import RemoteFaultProxy, control
from harness.services.base import ServiceError
from harness.services.kind import ServiceConfig, ServiceKind, option
from harness.services.local import Launch, LocalService
from harness.services.ports import LOOPBACK
from harness.services.privileges import ServiceUser
from harness.services.wait import NotReady

VERSION = "1"  # of the control API


@dataclass(frozen=True)
class FaultProxyEndpoint:
    url: str  # the control API
    version: str
    backend: str

    def location(self, reveal: bool = False) -> str:
        return self.url

    def proxy(self, upstream: tuple[str, int], http: bool = True) -> RemoteFaultProxy:
        """A new proxy in front of ``upstream``: use it, then ``close()`` it."""
        return RemoteFaultProxy(self.url, upstream, http)


@dataclass(frozen=True)
class FaultProxyConfig(ServiceConfig):
    url: str | None = option(
        flag="--fault-proxy-url",
        env="HARNESS_FAULT_PROXY_URL",
        help="the control URL of a fault proxy you run (python -m harness.faults.serve)",
        external=True,
    )
    port: int | None = option(
        env="HARNESS_FAULT_PROXY_PORT", help="fixed control port for the local one", parse=int
    )
    startup_timeout: float = option(
        30.0, env="HARNESS_FAULT_PROXY_STARTUP_TIMEOUT", help="seconds to wait", parse=float
    )


def _probe(url: str) -> None:
    answer = control(url, "GET", "/")
    if not isinstance(answer, dict) or answer.get("service") != "fault_proxy":
        raise NotReady(f"{url} answers, but is not a fault proxy: {answer!r}")


class LocalFaultProxy(LocalService):
    name = "fault_proxy"
    unprivileged = False  # our code, run by our interpreter

    @classmethod
    def prepare(cls, config: FaultProxyConfig, workdir: Path, user: ServiceUser) -> None:
        return None

    @classmethod
    def launch(cls, prepared: None, workdir: Path, port: int) -> Launch:
        url = f"http://{LOOPBACK}:{port}"
        return Launch(
            [sys.executable, "-m", "harness.faults.serve", "--port", str(port)],
            {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(p for p in sys.path if p)},
            FaultProxyEndpoint(url, VERSION, "local"),
            f"fault proxy on {url}",
        )

    @classmethod
    def ready(cls, endpoint: FaultProxyEndpoint) -> None:
        _probe(endpoint.url)


class FaultProxyKind(ServiceKind):
    name = "fault_proxy"
    summary = "fault proxies for any service, switched through a control API"
    config_class = FaultProxyConfig
    endpoint_class = FaultProxyEndpoint
    local_only = True

    def start_local(self, config: FaultProxyConfig, *, detached: bool) -> LocalFaultProxy:
        return LocalFaultProxy.start(config, detached=detached)

    def attach(self, config: FaultProxyConfig) -> FaultProxyEndpoint:
        assert config.url is not None
        try:
            _probe(config.url)
        except (OSError, NotReady, ServiceError) as exc:
            raise ServiceError(f"the fault proxy at {config.url} does not answer: {exc}") from None
        return FaultProxyEndpoint(config.url, VERSION, "external")

    def probe(self, endpoint: Any) -> None:
        _probe(endpoint.url)
