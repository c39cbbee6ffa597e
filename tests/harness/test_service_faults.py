"""pause/resume and kill/restart of a harness-started service: a real PostgreSQL frozen,
crashed and brought back on its data dir and port, and the docker backend's calls."""

from __future__ import annotations

import http.server
import json
import threading
import time
from urllib.parse import urlsplit

import psycopg
import pytest

from harness.services.base import ServiceError, ServiceStartError
from harness.services.docker_backend import DockerService
from harness.services.elasticsearch import ElasticsearchConfig, LocalElasticsearch
from harness.services.es_http import es_request
from harness.services.kind import DisruptableService
from harness.services.postgres import LocalPostgres, PostgresConfig
from harness.services.reaper import process_tree

pytestmark = pytest.mark.services


@pytest.fixture
def postgres(service_tmpdir):
    service = LocalPostgres.start(PostgresConfig())
    yield service
    service.stop()


def test_a_killed_postgres_restarts_on_its_data_and_port(postgres):
    dsn, port = postgres.endpoint.dsn(), postgres.endpoint.port
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept AS SELECT 42 AS answer")
    before = process_tree(postgres.process.pgid)
    postgres.kill()
    assert not any(pid in process_tree(postgres.process.pgid) for pid in before)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(dsn, connect_timeout=2).close()
    with pytest.raises(ServiceError, match="cannot be restarted" + "|" + "still running"):
        type(postgres)(postgres.process, postgres.workdir, postgres.endpoint).restart()
    postgres.restart()
    assert postgres.endpoint.port == port
    with psycopg.connect(postgres.endpoint.dsn()) as conn:
        assert conn.execute("SELECT answer FROM kept").fetchone() == (42,)


def test_a_running_service_is_not_restarted_over_itself(postgres):
    with pytest.raises(ServiceError, match="still running: kill"):
        postgres.restart()


def test_a_paused_postgres_answers_nothing_until_resumed(postgres):
    dsn = postgres.endpoint.dsn()
    conn = psycopg.connect(dsn, autocommit=True)  # a backend that exists before the pause
    postgres.pause()
    answered = threading.Event()

    def query() -> None:
        conn.execute("SELECT 1")
        answered.set()

    worker = threading.Thread(target=query, daemon=True)
    try:
        worker.start()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(dsn, connect_timeout=2).close()
        assert not answered.wait(1.0), "a query on an open connection ran while paused"
    finally:
        postgres.resume()
    assert answered.wait(30), "the query did not finish once the server was resumed"
    conn.close()


def test_a_paused_service_still_stops_promptly(service_tmpdir):
    service = LocalPostgres.start(PostgresConfig())
    pids = service.pids()
    service.pause()
    service.stop()  # SIGTERM alone would wait for the grace period on frozen processes
    assert not [pid for pid in pids if pid in process_tree(pids[0])]


def test_local_and_docker_services_offer_the_fault_controls(postgres):
    assert isinstance(postgres, DisruptableService)
    assert isinstance(DockerService("x", object(), None), DisruptableService)


class _Wrapped:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str):
        return lambda: self.calls.append(name)


class _Container:
    def __init__(self) -> None:
        self.wrapped = _Wrapped()

    def get_wrapped_container(self) -> _Wrapped:
        return self.wrapped


def test_the_docker_backend_asks_the_engine_and_reads_the_port_again():
    container = _Container()
    probes: list[str] = []
    service = DockerService(
        "pg", container, "old endpoint", lambda: ("new endpoint", lambda: probes.append("p"))
    )
    service.pause()
    service.resume()
    service.kill()
    service.restart()
    assert container.wrapped.calls == ["pause", "unpause", "kill", "start", "reload"]
    assert service.endpoint == "new endpoint" and probes == ["p"]


class _ImpostorNode(http.server.BaseHTTPRequestHandler):
    """Another run's node on the port: healthy, but not the one that was killed."""

    def do_GET(self) -> None:
        node = {"name": "another-runs-node", "version": "9.5.4"}
        body = {"nodes": {"x1": node}, "status": "green"}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def _bind_when_free(port: int) -> http.server.ThreadingHTTPServer:
    """The killed node's closed connections hold the port for a while (TIME_WAIT)."""
    deadline = time.monotonic() + 120
    while True:
        try:
            return http.server.ThreadingHTTPServer(("127.0.0.1", port), _ImpostorNode)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_restarted_elasticsearch_is_not_taken_for_another_node_on_its_port(service_tmpdir):
    """Seen under load: while a killed node restarted, another node answered on its port
    and the sync found no connector state there. The restart must not accept it."""
    es = LocalElasticsearch.start(ElasticsearchConfig())
    try:
        port = urlsplit(es.endpoint.url).port
        es_request(es.endpoint, "PUT", "/kept", {"settings": {"number_of_replicas": 0}})
        es.kill()
        impostor = _bind_when_free(port)
        threading.Thread(target=impostor.serve_forever, daemon=True).start()
        try:
            with pytest.raises(ServiceStartError, match="answers as 'another-runs-node'"):
                es.restart()
        finally:
            impostor.shutdown()
            impostor.server_close()
        es.restart()
        assert urlsplit(es.endpoint.url).port == port
        assert "kept" in es_request(es.endpoint, "GET", "/kept"), "the restart lost the index"
    finally:
        es.stop()
