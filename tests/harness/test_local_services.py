"""The local backend against real processes: users, ports, readiness, versions."""

import os
import socket

import psycopg
import pytest

from harness.load import Load
from harness.services import local as local_module
from harness.services import postgres as postgres_module
from harness.services.base import PortInUseError, ServiceError, ServiceStartError
from harness.services.elasticsearch import ElasticsearchConfig, LocalElasticsearch
from harness.services.es_http import es_request
from harness.services.postgres import LocalPostgres, PostgresConfig
from harness.services.reaper import process_tree
from harness.services.wait import NotReady
from tests.harness.helpers import uid_of

pytestmark = pytest.mark.services


@pytest.fixture
def listening_socket():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_services_run_unprivileged_and_loopback_only(elasticsearch_service, postgresql_service):
    for service in (elasticsearch_service, postgresql_service):
        pids = service.pids()
        assert pids, f"{service.name} has no live processes"
        uids = {uid_of(pid) for pid in pids} - {None}
        if os.geteuid() == 0:
            assert 0 not in uids, f"{service.name} runs as root: {pids}"
    es = elasticsearch_service.endpoint
    assert es.url.startswith("http://127.0.0.1:")
    info = es_request(es, "GET", "/_nodes/_local/http?filter_path=nodes.*.http.bound_address")
    bound = next(iter(info["nodes"].values()))["http"]["bound_address"]
    assert all(address.startswith("127.0.0.1:") for address in bound), bound
    with psycopg.connect(postgresql_service.endpoint.dsn()) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        assert conn.execute("SHOW fsync").fetchone() == ("off",)


def test_postgres_requires_the_generated_password(pg_endpoint):
    wrong = pg_endpoint.dsn().replace(pg_endpoint.password.reveal(), "wrong")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong, connect_timeout=5)


def test_an_explicitly_requested_taken_port_is_a_clear_error(listening_socket):
    with pytest.raises(PortInUseError, match=f"port {listening_socket} on 127.0.0.1"):
        LocalPostgres.start(PostgresConfig(port=listening_socket))


def test_a_picked_port_taken_before_start_is_retried(listening_socket, monkeypatch):
    picks = iter([listening_socket])
    real_claim_port = local_module.claim_port
    monkeypatch.setattr(
        local_module, "claim_port", lambda owner: next(picks, None) or real_claim_port(owner)
    )
    service = LocalPostgres.start(PostgresConfig())
    try:
        assert service.endpoint.port != listening_socket
    finally:
        service.stop()
    assert not process_tree(service.process.pgid)


def test_an_unreachable_tmpdir_is_a_clear_error(tmp_path, monkeypatch):
    if os.geteuid() != 0:
        pytest.skip("only root hands work dirs to another user")
    monkeypatch.setenv("HARNESS_TMPDIR", str(tmp_path))  # under pytest's 0700 dir
    with pytest.raises(ServiceError, match="cannot enter"):
        LocalPostgres.start(PostgresConfig())


@pytest.fixture
def calm_load(monkeypatch):
    """The start-up deadline scales with the machine's load (harness.load); these tests
    check the message about the deadline given, so they see a calm machine. Under a hog
    they read "not ready after 6s" for a 3 s deadline."""
    monkeypatch.setattr(Load, "now", classmethod(lambda cls: cls(0.0, os.cpu_count() or 1)))


def test_readiness_timeout_shows_the_log_tail_and_leaves_nothing(service_tmpdir, calm_load):
    with pytest.raises(ServiceStartError) as info:
        LocalElasticsearch.start(ElasticsearchConfig(startup_timeout=1.5))
    message = str(info.value)
    assert "not ready after 2s" in message
    assert "last lines of the service log" in message
    leftovers = [p for p in service_tmpdir.iterdir() if p.is_dir()]
    assert leftovers == [], f"work dirs left behind: {leftovers}"


def test_readiness_timeout_error_quotes_the_log(service_tmpdir, monkeypatch, calm_load):
    def never_ready(_endpoint):
        raise NotReady("probe disabled by the test")

    monkeypatch.setattr(postgres_module, "check_postgres", never_ready)
    with pytest.raises(ServiceStartError) as info:
        LocalPostgres.start(PostgresConfig(startup_timeout=3))
    assert "not ready after 3s (last check: probe disabled by the test)" in str(info.value)
    assert "starting PostgreSQL" in str(info.value)
    assert list(service_tmpdir.iterdir()) == []


def test_a_postgres_that_dies_at_start_reports_its_exit(service_tmpdir, monkeypatch):
    real_prepare = LocalPostgres.prepare.__func__

    def broken(cls, config, workdir, user):
        prepared = real_prepare(cls, config, workdir, user)
        (workdir / "data" / "postgresql.conf").write_text("shared_buffers = 'nonsense'\n")
        return prepared

    monkeypatch.setattr(LocalPostgres, "prepare", classmethod(broken))
    with pytest.raises(ServiceStartError, match="exited with code 1 before it was ready") as info:
        LocalPostgres.start(PostgresConfig())
    assert "shared_buffers" in info.value.log_tail


@pytest.mark.parametrize("version", ["8.19.21"])
def test_an_8x_node_starts_too(version):
    node = LocalElasticsearch.start(ElasticsearchConfig(version=version))
    try:
        assert node.endpoint.version == version
        assert node.endpoint.url.startswith("http://127.0.0.1:")
    finally:
        node.stop()
    assert not node.pids()
