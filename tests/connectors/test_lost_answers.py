"""A conditional write that lands but whose answer is lost (the request timed out on a busy
cluster) is retried, and the retry conflicts with the write itself. Each state write must
then see its own write, not a rival's. Before this was handled, under load:
* a one-shot sync failed with "connector ... is being synced by job <its own job>";
* a claimed job was left in progress with nobody running it, then given up for lost;
* a completed job was reported as "taken from this worker", and its connector (status,
  cursor) never followed.

The proxy forwards each request to the real Elasticsearch and, for the chosen write, drops
the connection instead of passing the answer on: deterministic, no timing involved."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from connectors.es import lease
from connectors.es.client import EsSettings, es_client
from connectors.es.records import JobStatus
from connectors.es.rest import ConflictError, EsClient
from connectors.es.state import ConnectorDoc, ConnectorStore, JobStore, ensure_state_indices
from connectors.jobs import end_job
from connectors.liveness import give_up_for_lost

pytestmark = pytest.mark.services

Chooser = Callable[[str, str, bytes], bool]


class AnswerLosingProxy:
    """Forwards to Elasticsearch; a request ``lose`` picks is applied there, and then its
    connection is closed with no answer, as a client that timed out would see it."""

    def __init__(self, upstream: str, lose: Chooser) -> None:
        self.upstream, self.lose = upstream.rstrip("/"), lose
        self.lost: list[str] = []
        self.url = ""

    async def answer(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        kept = ("content-type", "accept")
        headers = {k: v for k, v in request.headers.items() if k.lower() in kept}
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method, self.upstream + request.path_qs, data=body, headers=headers
            ) as upstream,
        ):
            payload, status = await upstream.read(), upstream.status
            kind = upstream.headers.get("Content-Type", "application/json")
        if not self.lost and self.lose(request.method, request.path_qs, body):
            self.lost.append(f"{request.method} {request.path_qs} -> {status}")
            assert request.transport is not None
            request.transport.close()  # applied upstream; the answer never arrives
            return web.Response(status=status)
        return web.Response(
            body=payload,
            status=status,
            headers={"Content-Type": kind, "X-Elastic-Product": "Elasticsearch"},
        )


@asynccontextmanager
async def losing(upstream: str, lose: Chooser) -> AsyncIterator[AnswerLosingProxy]:
    proxy = AnswerLosingProxy(upstream, lose)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy.answer)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    proxy.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield proxy
    finally:
        await runner.cleanup()


def _client(url: str) -> EsClient:
    return es_client(EsSettings(url, retry_backoff=0.05, retry_backoff_cap=0.1))


async def _connector(client: EsClient, connector_id: str) -> ConnectorDoc:
    await ensure_state_indices(client)
    source = {
        "id": connector_id,
        "service_type": "list",
        "index_name": connector_id,
        "configuration": {},
        "sync_cursor": {"t": 1},
    }
    await ConnectorStore(client).save(source)
    return ConnectorDoc.from_source(source)


def _run(es_url: str, lose: Chooser, body: Callable[[EsClient, EsClient], Awaitable[Any]]) -> Any:
    """``body(through_proxy, direct)``; returns its result and what the proxy lost."""

    async def go() -> Any:
        direct = _client(es_url)
        try:
            async with losing(es_url, lose) as proxy:
                proxied = _client(proxy.url)
                try:
                    result = await body(proxied, direct)
                finally:
                    await proxied.close()
            assert proxy.lost, "the proxy lost no answer: the test did not test anything"
            return result
        finally:
            await direct.close()

    return asyncio.run(go())


def _conditional_update(index: str) -> Chooser:
    def chosen(method: str, path: str, _body: bytes) -> bool:
        return method == "POST" and f"/{index}/_update/" in path and "if_seq_no" in path

    return chosen


def test_a_lease_whose_answer_was_lost_is_still_taken(es_endpoint, run_namespace) -> None:
    connector_id = run_namespace.es_name("lost-answer-lease")

    async def body(proxied: EsClient, direct: EsClient) -> lease.Grant:
        await _connector(direct, connector_id)
        return await lease.acquire(proxied, connector_id, "job-1", ttl=60)

    grant = _run(es_endpoint.url, _conditional_update(".elastic-connectors"), body)
    assert grant.job_id == "job-1" and grant.replaced is None


def test_a_claim_whose_answer_was_lost_is_still_this_workers(es_endpoint, run_namespace) -> None:
    connector_id = run_namespace.es_name("lost-answer-claim")

    async def body(proxied: EsClient, direct: EsClient) -> tuple[bool, str]:
        connector = await _connector(direct, connector_id)
        job_id = await JobStore(direct).create(connector, "full", "on_demand")
        claimed = await JobStore(proxied).claim(job_id)
        return claimed, (await JobStore(direct).get(job_id)).status

    claimed, status = _run(
        es_endpoint.url, _conditional_update(".elastic-connectors-sync-jobs"), body
    )
    assert (claimed, status) == (True, JobStatus.IN_PROGRESS), (
        "a claim that landed was taken for a rival's: the job is in progress and nobody runs it"
    )


def test_an_end_whose_answer_was_lost_stands_and_the_connector_follows(
    es_endpoint, run_namespace
) -> None:
    connector_id = run_namespace.es_name("lost-answer-end")

    async def body(proxied: EsClient, direct: EsClient) -> tuple[Any, ...]:
        connector = await _connector(direct, connector_id)
        jobs = JobStore(direct)
        job_id = await jobs.create(connector, "incremental", "on_demand")
        assert await jobs.claim(job_id)
        grant = await lease.acquire(direct, connector_id, job_id, ttl=60)
        status, _result, error = await end_job(
            proxied, job_id, connector, JobStatus.COMPLETED, None, None, grant
        )
        return status, error, await jobs.get(job_id), await ConnectorStore(direct).get(connector_id)

    status, error, job, connector = _run(
        es_endpoint.url, _conditional_update(".elastic-connectors-sync-jobs"), body
    )
    assert (status, error) == (JobStatus.COMPLETED, None), f"the end was reported as {error}"
    assert job.status == JobStatus.COMPLETED
    assert connector.last_sync_status == JobStatus.COMPLETED


def test_a_job_created_whose_answer_was_lost_is_created_once(es_endpoint, run_namespace) -> None:
    connector_id = run_namespace.es_name("lost-answer-create")

    def creating(method: str, path: str, _body: bytes) -> bool:
        return method == "PUT" and "/.elastic-connectors-sync-jobs/_create/" in path

    async def body(proxied: EsClient, direct: EsClient) -> tuple[str, list[str], str]:
        connector = await _connector(direct, connector_id)
        job_id = await JobStore(proxied).create(connector, "full", "on_demand")
        mine = [job.id for job in await JobStore(direct).find(connector_id)]
        with pytest.raises(ConflictError):  # an id given twice is still refused
            await JobStore(direct).create(connector, "full", "on_demand", job_id=job_id)
        return job_id, mine, (await JobStore(direct).get(job_id)).status

    job_id, mine, status = _run(es_endpoint.url, creating, body)
    assert (mine, status) == ([job_id], JobStatus.PENDING)


def test_a_lost_job_given_up_whose_answer_was_lost_is_followed_up(
    es_endpoint, run_namespace
) -> None:
    connector_id = run_namespace.es_name("lost-answer-sweep")

    async def body(proxied: EsClient, direct: EsClient) -> tuple[bool, Any, Any]:
        connector = await _connector(direct, connector_id)
        jobs = JobStore(direct)
        job_id = await jobs.create(connector, "full", "on_demand", claimed=True)
        ended = await give_up_for_lost(proxied, job_id, "a-dead-worker", lease_seconds=3)
        return ended, await jobs.get(job_id), await ConnectorStore(direct).get(connector_id)

    jobs_writes = _conditional_update(".elastic-connectors-sync-jobs")
    ended, job, connector = _run(es_endpoint.url, jobs_writes, body)
    assert ended and job.status == JobStatus.ERROR and "worker lost" in (job.error or "")
    assert connector.last_sync_status == JobStatus.ERROR, (
        "the sweep's end landed, but the sweep took it for someone else's and left the "
        "connector saying nothing of it"
    )
