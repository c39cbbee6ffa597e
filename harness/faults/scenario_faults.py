"""Faults for a scenario run: Elasticsearch or the source behind a fault proxy for the
length of a block, and the invariant every fault scenario ends on (no job left live)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from harness import state_index
from harness.capabilities import Proxied
from harness.faults.proxy import FaultProxy
from harness.scenario import ScenarioRun
from harness.services.es_http import es_request

LIVE_STATUSES = ("pending", "in_progress", "canceling", "suspended")


@contextmanager
def es_behind_proxy(run: ScenarioRun) -> Iterator[FaultProxy]:
    """The subject talks to Elasticsearch through a fault proxy; the harness's own checks
    still go straight to it."""
    parts = urlsplit(run.es.url)
    assert parts.hostname and parts.port
    subject: Any = run.subject
    direct = subject.endpoint
    with FaultProxy(parts.hostname, parts.port, http=True) as proxy:
        subject.endpoint = dataclasses.replace(direct, url=proxy.url(parts.scheme))
        try:
            yield proxy
        finally:
            subject.endpoint = direct


@contextmanager
def source_behind_proxy(run: ScenarioRun) -> Iterator[tuple[FaultProxy, dict[str, Any]]]:
    """A TCP fault proxy in front of the source, and the configuration that goes through it."""
    with FaultProxy(*run.able(Proxied).source_address(), http=False) as proxy:
        yield proxy, run.able(Proxied).configuration_through(proxy.address)


def assert_no_live_job(run: ScenarioRun) -> None:
    """Whatever happened, every job of the connector reached an end: none is left pending
    or in progress for a service to find later (or never)."""
    found = es_request(
        run.es,
        "POST",
        f"/{state_index.JOBS}/_search?ignore_unavailable=true",
        {"size": 100, "query": {"term": {"connector.id": run.connector_id}}},
    )
    live = [
        (hit["_id"], hit["_source"]["status"])
        for hit in found["hits"]["hits"]
        if hit["_source"]["status"] in LIVE_STATUSES
    ]
    assert not live, f"jobs left unfinished for {run.connector_id}: {live}"


def abandon_a_job(run: ScenarioRun) -> str:
    """What a SIGKILL'd worker leaves behind, written as the connector protocol's state:
    a job in progress, never heard of since 2020, under an expired lease. Its id."""
    job = "deadbeef" + run.connector_id[-12:].replace("-", "0")
    es_request(
        run.es,
        "PUT",
        state_index.job_doc(job) + "?refresh=true",
        {
            "connector": {"id": run.connector_id, "index_name": run.index},
            "job_type": "full",
            "status": "in_progress",
            "created_at": "2020-01-01T00:00:00+00:00",
            "last_seen": "2020-01-01T00:00:00+00:00",
            "worker_hostname": "a-dead-worker",
        },
    )
    es_request(
        run.es,
        "POST",
        state_index.connector_update(run.connector_id),
        {
            "doc": {
                "sync_lease": {
                    "job_id": job,
                    "worker": "a-dead-worker",
                    "acquired_at": "2020-01-01T00:00:00+00:00",
                    "expires_at": 1.0,
                }
            }
        },
    )
    return job
