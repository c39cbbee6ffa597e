"""The fault proxy as a service kind: a process hosting fault proxies that its control API
creates and switches (harness/faults/serve.py), for faults driven from outside the test
process -- ``harness up --services fault_proxy``, a shell, another suite. Scenarios in the
test process use ``harness.faults.FaultProxy`` directly, which needs no service.

It relays to ports published on 127.0.0.1 whatever backend serves them, so it has no
container of its own: the docker backend runs it locally too."""

from __future__ import annotations

from dataclasses import dataclass

from harness.services.fault_proxy_client import RemoteFaultProxy, control
from harness.services.kind import ServiceConfig, option
from harness.services.own_server import OwnServer, OwnServerKind
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


class LocalFaultProxy(OwnServer):
    name = "fault_proxy"
    module = "harness.faults.serve"
    what = "fault proxy"

    @classmethod
    def check(cls, url: str) -> str:
        answer = control(url, "GET", "/")
        if not isinstance(answer, dict) or answer.get("service") != "fault_proxy":
            raise NotReady(f"{url} answers, but is not a fault proxy: {answer!r}")
        return VERSION

    @classmethod
    def endpoint(cls, url: str, version: str, backend: str) -> FaultProxyEndpoint:
        return FaultProxyEndpoint(url, version, backend)

    @classmethod
    def local_version(cls) -> str:
        return VERSION


class FaultProxyKind(OwnServerKind):
    name = "fault_proxy"
    summary = "fault proxies for any service, switched through a control API"
    config_class = FaultProxyConfig
    endpoint_class = FaultProxyEndpoint
    local_only = True
    server = LocalFaultProxy
