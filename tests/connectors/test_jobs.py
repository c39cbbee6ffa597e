"""Job lifecycle against the real Elasticsearch, with an in-memory source plugged in."""

import asyncio

import pytest

from connectors import jobs as jobs_module
from connectors.documents import SourceDocument
from connectors.es.client import EsSettings, es_client
from connectors.es.state import ConnectorDoc, ConnectorStore, JobStore, ensure_state_indices
from connectors.jobs import run_job
from connectors.liveness import claim_job
from connectors.source import Operation
from tests.connectors.fakes import ListSource

pytestmark = pytest.mark.services


def run_with(es_endpoint, index, source, job_type):
    async def go():
        client = es_client(EsSettings(es_endpoint.url))
        try:
            await ensure_state_indices(client)
            connector = {
                "id": index,
                "service_type": "list",
                "index_name": index,
                "configuration": {},
                "sync_cursor": {"t": 1},
            }
            store = ConnectorStore(client)
            if not await client.head(f"/.elastic-connectors/_doc/{index}"):
                await store.save(connector)
            jobs = JobStore(client)
            job_id = await jobs.create(ConnectorDoc.from_source(connector), job_type, "on_demand")
            listed = await jobs.get(job_id)
            grant = await claim_job(client, listed)
            assert grant is not None
            assert await claim_job(client, listed) is None, "a job is claimed once"
            assert not await jobs.claim(job_id), "a job is claimed once"
            status, _result, error = await run_job(client, grant)
            return status, error, await jobs.get(job_id), await store.get(index)
        finally:
            await client.request("DELETE", f"/{index}", params={"ignore_unavailable": "true"})
            await client.close()

    return asyncio.run(go())


def test_cursor_is_persisted_only_after_success(es_endpoint, run_namespace, monkeypatch):
    index = run_namespace.es_name("jobs-cursor")
    changes = [
        Operation("index", "a", SourceDocument("a", {"v": 1})),
        Operation("index", "b", SourceDocument("b", {"v": 2})),
    ]
    failing = ListSource([], changes=changes, cursor={"t": 99}, fail_after=1)
    monkeypatch.setattr(jobs_module, "load_source", lambda _name: lambda _cfg: failing)
    status, error, job, connector = run_with(es_endpoint, index, failing, "incremental")
    assert status == "error" and "connection lost" in error
    assert job.status == "error" and job.completed_at
    assert connector.sync_cursor == {"t": 1}
    assert connector.last_sync_status == "error"

    working = ListSource([], changes=changes, cursor={"t": 99})
    monkeypatch.setattr(jobs_module, "load_source", lambda _name: lambda _cfg: working)
    status, error, job, connector = run_with(es_endpoint, index, working, "incremental")
    assert (status, error) == ("completed", None)
    assert job.indexed_document_count == 2 and job.total_document_count == 2
    assert connector.sync_cursor == {"t": 99}
    assert connector.last_sync_status == "completed"
