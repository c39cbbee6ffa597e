import pytest

from harness.services.base import Secret, ServiceError
from harness.services.options import ServiceOptions
from harness.services.provider import choose_backend


def no_engine():
    return False, "no Docker engine answered (DockerException)"


def engine():
    return True, "a Docker engine answered"


def test_auto_falls_back_to_local_without_an_engine():
    backend, reason = choose_backend("elasticsearch", ServiceOptions(), no_engine)
    assert backend == "local"
    assert "no Docker engine" in reason


def test_auto_prefers_docker_when_an_engine_answers():
    assert choose_backend("postgresql", ServiceOptions(), engine)[0] == "docker"


def test_auto_prefers_external_per_service():
    options = ServiceOptions(es_url="http://127.0.0.1:9200")
    assert choose_backend("elasticsearch", options, engine)[0] == "external"
    assert choose_backend("postgresql", options, no_engine)[0] == "local"


def test_an_explicit_backend_is_taken_as_is():
    assert choose_backend("postgresql", ServiceOptions(backend="local"), engine) == (
        "local",
        "requested",
    )


def test_external_without_endpoints_is_a_usage_error():
    with pytest.raises(ServiceError, match="needs both --es-url"):
        ServiceOptions(backend="external", es_url="http://x:9200")


def test_unknown_backend_is_refused():
    with pytest.raises(ServiceError, match="unknown backend 'podman'"):
        ServiceOptions(backend="podman")


def test_env_configures_and_options_override(monkeypatch):
    monkeypatch.setenv("HARNESS_BACKEND", "local")
    monkeypatch.setenv("HARNESS_PG_DSN", "postgresql://u:pw@h:5/db")
    options = ServiceOptions.from_env(es_version="8.19.21", backend=None)
    assert options.backend == "local"
    assert options.es_version == "8.19.21"
    assert options.pg_dsn == Secret("postgresql://u:pw@h:5/db")
    assert "pw" not in repr(options)
