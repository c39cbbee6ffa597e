"""The fault proxy as a service kind: a separate process, started like any kind, whose
proxies a control API creates, switches and reads; stopped with nothing left behind."""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from harness.services import registry
from harness.services.base import ServiceError
from harness.services.options import HarnessOptions
from harness.services.provider import provide
from harness.services.reaper import process_tree

pytestmark = pytest.mark.services


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def fault_proxy(service_tmpdir):
    service = provide("fault_proxy", HarnessOptions.from_env(backend="local"))
    yield service
    service.stop()


def test_proxies_are_created_switched_and_read_through_the_control_api(fault_proxy, es_endpoint):
    parts = urlsplit(es_endpoint.url)
    assert parts.hostname and parts.port
    with fault_proxy.endpoint.proxy((parts.hostname, parts.port), http=True) as proxy:
        health = proxy.url() + "/_cluster/health"
        proxy.fail(pattern="/_cluster/health", status=503, limit=1)
        assert [status_of(health), status_of(health)] == [503, 200]
        stats = proxy.stats()
        assert stats["faults"] == {"503": 1} and stats["forwarded"] == 1
        with pytest.raises(ServiceError, match="unknown action 'explode'; one of clear, cut"):
            proxy.explode()
        with pytest.raises(ServiceError, match="latency"):
            proxy.latency(sekonds=1)


def test_the_service_stops_with_its_proxies(fault_proxy, es_endpoint):
    parts = urlsplit(es_endpoint.url)
    assert parts.hostname and parts.port
    fault_proxy.endpoint.proxy((parts.hostname, parts.port), http=False)
    pids = fault_proxy.pids()
    assert pids
    fault_proxy.stop()
    assert not [p for p in pids if p in process_tree(p)]


def test_the_kind_is_registered_with_its_options():
    kind = registry.kind("fault_proxy")
    flags = {spec.flag for spec in kind.config_class.specs()}
    assert "--fault-proxy-url" in flags
