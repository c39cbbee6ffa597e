"""The docker backend cannot run here (no engine): its construction is tested instead."""

import pytest

from harness.services import docker_backend
from harness.services.docker_backend import docker_engine_status, to_testcontainer
from harness.services.elasticsearch import ElasticsearchConfig, ElasticsearchKind
from harness.services.postgres import PostgresConfig, PostgresKind


def elasticsearch_spec(version: str, heap: str = "768m"):
    return ElasticsearchKind().container(ElasticsearchConfig(version=version, heap=heap))[0]


def postgres_spec():
    return PostgresKind().container(PostgresConfig())[0]


def test_elasticsearch_spec():
    spec = elasticsearch_spec("9.5.4", heap="512m")
    assert spec.image == "docker.elastic.co/elasticsearch/elasticsearch:9.5.4"
    assert spec.port == 9200
    assert spec.env["discovery.type"] == "single-node"
    assert spec.env["xpack.security.enabled"] == "false"
    assert spec.env["ES_JAVA_OPTS"] == "-Xms512m -Xmx512m"


def test_postgres_spec_carries_the_generated_password_only_in_env():
    spec, endpoint_at = PostgresKind().container(PostgresConfig())
    endpoint = endpoint_at("127.0.0.1", 32768)
    assert spec.image == "postgres:16"
    assert spec.env["POSTGRES_PASSWORD"] == endpoint.password.reveal()
    assert endpoint.password.reveal() not in repr(endpoint)
    assert (endpoint.port, endpoint.backend) == (32768, "docker")
    assert "fsync=off" in spec.command


def test_testcontainer_binds_loopback_only(monkeypatch):
    pytest.importorskip("testcontainers")
    import testcontainers.core.container as tc

    class OfflineClient:  # stands in for the engine connection made in the constructor
        def __init__(self, **_kwargs):
            pass

    monkeypatch.setattr(tc, "DockerClient", OfflineClient)
    container = to_testcontainer(postgres_spec())
    assert container.image.endswith("postgres:16")
    assert container.env["POSTGRES_USER"] == "harness"
    assert container.ports == {"5432": ("127.0.0.1", None)}
    # ... which docker-py turns into a loopback-only binding on an engine-chosen port.
    from docker.utils.utils import _convert_port_binding

    assert _convert_port_binding(container.ports["5432"]) == {"HostIp": "127.0.0.1", "HostPort": ""}
    assert container._command[:1] == ["postgres"]


def test_no_engine_is_reported_not_raised(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    ok, reason = docker_engine_status(timeout=1)
    assert not ok
    assert "no Docker engine answered" in reason or "not installed" in reason


def test_start_without_testcontainers_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("testcontainers"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(docker_backend.ServiceError, match=r"pip install '\.\[docker\]'"):
        to_testcontainer(elasticsearch_spec("9.5.4"))
