"""`connectors service` as a real process: scheduled jobs, cancelation, SIGTERM -> suspended
-> resumed by the next service run."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import yaml

from connectors.es.client import EsSettings, es_client
from connectors.es.state import JobConnector, JobStore
from tests.harness.helpers import wait_until

pytestmark = pytest.mark.services
ROWS = 150_000


@pytest.fixture
def big_connector(pg_endpoint, es_endpoint, run_namespace, tmp_path, request):
    schema = run_namespace.pg_name("svc_" + request.node.name)[:50]
    with psycopg.connect(pg_endpoint.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(
            f"CREATE TABLE {schema}.big AS SELECT g AS id, md5(g::text) AS body "
            f"FROM generate_series(1, {ROWS}) g"
        )
        conn.execute(f"ALTER TABLE {schema}.big ADD PRIMARY KEY (id)")
    index = run_namespace.es_name("svc-" + request.node.name)
    spec = {
        "id": index,
        "service_type": "postgresql",
        "index_name": index,
        "configuration": {
            "host": pg_endpoint.host,
            "port": pg_endpoint.port,
            "username": pg_endpoint.user,
            "database": pg_endpoint.dbname,
            "password": pg_endpoint.password.reveal(),
            "schema": schema,
            "fetch_size": 500,
        },
    }
    path = tmp_path / "c.yml"
    path.write_text(yaml.safe_dump(spec))
    env = dict(os.environ, CONNECTORS_ES_URL=es_endpoint.url)
    subprocess.run(
        ["connectors", "create", "--config", str(path)], env=env, check=True, capture_output=True
    )
    yield index, env
    with psycopg.connect(pg_endpoint.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def jobs_of(es_url: str, connector_id: str) -> list[dict]:
    async def go():
        client = es_client(EsSettings(es_url))
        try:
            return await JobStore(client).find(connector_id)
        finally:
            await client.close()

    return asyncio.run(go())


def queue_job(es_url: str, connector_id: str) -> str:
    async def go():
        from connectors.es.state import ConnectorStore

        client = es_client(EsSettings(es_url))
        try:
            connector = await ConnectorStore(client).get(connector_id)
            return await JobStore(client).create(connector, "full", "on_demand")
        finally:
            await client.close()

    return asyncio.run(go())


@contextmanager
def service_running(env: dict, log_path: Path, *serving: str) -> Iterator[subprocess.Popen]:
    """`connectors service` in the background; SIGTERM (then SIGKILL) when the block ends.
    The block may stop it itself and check its exit code."""
    with log_path.open("a") as log:
        service = subprocess.Popen(
            ["connectors", "service", "--poll-interval", "0.2"]
            + [arg for connector_id in serving for arg in ("--connector", connector_id)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield service
        finally:
            if service.poll() is None:
                service.send_signal(signal.SIGTERM)
                try:
                    service.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    service.kill()


def status_of(es_url, connector_id, job_id):
    return next(j.status for j in jobs_of(es_url, connector_id) if j.id == job_id)


def wait_for_status(es_url, connector_id, job_id, status, timeout, what, log_path):
    """Until the job has ``status``; on timeout the service's log tail says why not."""
    wait_until(lambda: status_of(es_url, connector_id, job_id) == status, timeout, what, log_path)


def test_sigterm_suspends_the_job_and_the_next_service_resumes_it(
    big_connector, es_endpoint, tmp_path
):
    index, env = big_connector
    job_id = queue_job(es_endpoint.url, index)
    log_path = tmp_path / "service.log"
    with service_running(env, log_path, index) as service:
        wait_for_status(
            es_endpoint.url,
            index,
            job_id,
            "in_progress",
            60,
            "the service to start the job",
            log_path,
        )
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=60) == 0
    assert status_of(es_endpoint.url, index, job_id) == "suspended"
    with service_running(env, log_path, index):
        wait_for_status(
            es_endpoint.url,
            index,
            job_id,
            "completed",
            240,
            "the next service run to finish the job",
            log_path,
        )
    job = next(j for j in jobs_of(es_endpoint.url, index) if j.id == job_id)
    assert job.total_document_count == ROWS


def test_cancel_stops_a_running_job(big_connector, es_endpoint, tmp_path):
    index, env = big_connector
    job_id = queue_job(es_endpoint.url, index)
    log_path = tmp_path / "service.log"
    with service_running(env, log_path, index) as service:
        wait_for_status(
            es_endpoint.url, index, job_id, "in_progress", 60, "the job to start", log_path
        )
        done = subprocess.run(
            ["connectors", "cancel", job_id], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0
        wait_for_status(
            es_endpoint.url, index, job_id, "canceled", 60, "the job to be canceled", log_path
        )
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=60) == 0


def test_a_scheduled_connector_gets_a_job(big_connector, es_endpoint, tmp_path):
    index, env = big_connector

    async def schedule():
        from connectors.es.state import ConnectorStore

        client = es_client(EsSettings(es_endpoint.url))
        try:
            await ConnectorStore(client).update(
                index, {"scheduling": {"full": {"enabled": True, "interval": 1}}}
            )
        finally:
            await client.close()

    asyncio.run(schedule())
    log_path = tmp_path / "service.log"
    with service_running(env, log_path, index) as service:
        wait_until(
            lambda: any(j.trigger_method == "scheduled" for j in jobs_of(es_endpoint.url, index)),
            60,
            "a scheduled job",
            log_path,
        )
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=120) == 0


def test_a_job_whose_connector_was_deleted_is_ended_and_blocks_no_other(
    big_connector, es_endpoint, tmp_path
):
    """Found by the crash scenarios: a pending job left by a deleted connector made every
    service tick fail (404 on its connector), so no later job ever ran."""
    index, env = big_connector

    async def orphan() -> str:
        client = es_client(EsSettings(es_endpoint.url))
        try:
            gone = JobConnector(index + "-gone", index + "-gone", "postgresql")
            return await JobStore(client).create(gone, "full", "on_demand")
        finally:
            await client.close()

    orphan_id = asyncio.run(orphan())
    job_id = queue_job(es_endpoint.url, index)  # queued after the orphan: it runs second
    log_path = tmp_path / "service.log"
    with service_running(env, log_path, index, index + "-gone"):
        wait_for_status(
            es_endpoint.url,
            index,
            job_id,
            "completed",
            240,
            "the job queued behind the orphan to complete",
            log_path,
        )
    orphan_job = jobs_of(es_endpoint.url, index + "-gone")[0]
    assert orphan_job.id == orphan_id
    assert orphan_job.status == "error"
    assert orphan_job.error == f"its connector '{index}-gone' no longer exists"
