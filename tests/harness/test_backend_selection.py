import dataclasses

import pytest

from harness.services.base import Secret, ServiceError
from harness.services.options import HarnessOptions
from harness.services.provider import choose_backend, provide


def no_engine():
    return False, "no Docker engine answered (DockerException)"


def engine():
    return True, "a Docker engine answered"


def test_auto_falls_back_to_local_without_an_engine():
    backend, reason = choose_backend("elasticsearch", HarnessOptions(), no_engine)
    assert backend == "local"
    assert "no Docker engine" in reason


def test_auto_prefers_docker_when_an_engine_answers():
    assert choose_backend("postgresql", HarnessOptions(), engine)[0] == "docker"


def test_auto_prefers_external_per_service():
    options = HarnessOptions.from_env(harness_elasticsearch_url="http://127.0.0.1:9200")
    assert choose_backend("elasticsearch", options, engine)[0] == "external"
    assert choose_backend("postgresql", options, no_engine)[0] == "local"


def test_an_explicit_backend_is_taken_as_is():
    assert choose_backend("postgresql", HarnessOptions(backend="local"), engine) == (
        "local",
        "requested",
    )


def test_external_without_an_endpoint_names_the_option():
    options = HarnessOptions.from_env(backend="external", harness_elasticsearch_url="http://x:9")
    with pytest.raises(ServiceError, match="needs an endpoint for postgresql: set --pg-dsn"):
        provide("postgresql", options)


def test_unknown_backend_is_refused():
    with pytest.raises(ServiceError, match="unknown backend 'podman'"):
        HarnessOptions(backend="podman")


def test_env_configures_and_options_override(monkeypatch):
    monkeypatch.setenv("HARNESS_BACKEND", "local")
    monkeypatch.setenv("HARNESS_PG_DSN", "postgresql://u:pw@h:5/db")
    monkeypatch.setenv("HARNESS_ES_VERSION", "9.0.0")
    options = HarnessOptions.from_env(harness_elasticsearch_version="8.19.21", backend=None)
    assert options.backend == "local"
    assert options.config("elasticsearch").version == "8.19.21"
    assert options.config("postgresql").dsn == Secret("postgresql://u:pw@h:5/db")
    assert "pw" not in repr(options)


def test_a_flag_beats_the_environment_which_beats_the_ini(monkeypatch):
    ini = {"harness_postgresql_bindir": "/from/ini", "harness_elasticsearch_heap": "1g"}
    monkeypatch.setenv("HARNESS_PG_BINDIR", "/from/env")
    monkeypatch.setenv("HARNESS_ES_HEAP", "2g")
    flags = {"harness_postgresql_bindir": "/from/flag"}
    options = HarnessOptions.resolve(flags.get, ini.get)
    assert options.config("postgresql").bindir == "/from/flag"
    assert options.config("elasticsearch").heap == "2g"
    monkeypatch.delenv("HARNESS_ES_HEAP")
    assert HarnessOptions.resolve(flags.get, ini.get).config("elasticsearch").heap == "1g"


def test_configs_are_frozen():
    config = HarnessOptions.from_env().config("postgresql")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.bindir = "/elsewhere"


def test_a_badly_typed_value_names_its_variable(monkeypatch):
    monkeypatch.setenv("HARNESS_PG_PORT", "not-a-port")
    with pytest.raises(ServiceError, match="HARNESS_PG_PORT: cannot use 'not-a-port'"):
        HarnessOptions.from_env()


def test_a_switch_takes_no_value_and_reads_truthy_variables(monkeypatch):
    from harness.cli import build_parser

    args = build_parser().parse_args(["fetch", "--es-trust-unverified"])
    flags = vars(args)
    assert HarnessOptions.resolve(flags.get).config("elasticsearch").trust_unverified is True
    monkeypatch.setenv("HARNESS_ES_TRUST_UNVERIFIED", "yes")
    assert HarnessOptions.from_env().config("elasticsearch").trust_unverified is True
    monkeypatch.setenv("HARNESS_ES_TRUST_UNVERIFIED", "0")
    assert HarnessOptions.from_env().config("elasticsearch").trust_unverified is False


def test_a_kind_without_a_container_runs_locally_on_the_docker_backend():
    assert choose_backend("fault_proxy", HarnessOptions(), engine)[0] == "local"
    backend, reason = choose_backend("fault_proxy", HarnessOptions(backend="docker"), engine)
    assert (backend, reason) == ("local", "fault_proxy has no container: it runs beside the tests")
    assert choose_backend("postgresql", HarnessOptions(backend="docker"), engine)[0] == "docker"
