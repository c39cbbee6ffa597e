"""Writes that keep failing end the sync once, in time, saying why: one deadline per
sync (not per batch, not per request), the block named, and a line every few seconds
while it waits. (Breaks: a permanent flood-stage block and a 10 s deadline took 107 s; a
killed node kept a sync running 560 s against a 300 s deadline; a closed port waited 5
minutes in silence.)"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import time
from typing import Any

import pytest

from connectors import defaults
from connectors.es.http11 import HttpError
from connectors.es.retrying import EsUnavailable, RetryPolicy
from connectors.es.sink import BulkSink, SinkError

FLOOD = {
    "type": "cluster_block_exception",
    "reason": "index [idx] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded "
    "flood-stage watermark, index has read-only-allow-delete block]",
}


class _Blocked:
    """Every item of every _bulk refused with a flood-stage 429."""

    def __init__(self) -> None:
        self.calls = 0

    async def send(self, body: bytes) -> list[dict[str, Any]]:
        self.calls += 1
        lines = body.count(b"\n") // 2
        return [{"index": {"_id": str(i), "status": 429, "error": FLOOD}} for i in range(lines)]

    async def close(self) -> None:
        pass


def test_a_permanent_block_fails_the_sync_once_within_its_deadline() -> None:
    transport = _Blocked()

    async def go() -> None:
        sink = BulkSink(
            transport, "idx", max_docs=10, backoff=0.05, backoff_cap=0.2, retry_seconds=1.0
        )
        for n in range(200):  # twenty batches, each of which would wait out its own deadline
            await sink.add_index(str(n), b"{}")
        await sink.close()

    started = time.monotonic()
    with pytest.raises(SinkError) as failed:
        asyncio.run(go())
    seconds = time.monotonic() - started
    assert seconds < 3.0, f"gave up after {seconds:.1f}s; the sync's deadline is 1 s"
    message = str(failed.value)
    assert "refused writes" in message and "flood-stage watermark" in message, message
    assert "\n" not in message


def test_requests_of_one_outage_share_one_deadline() -> None:
    """Each request of a sync that finds the cluster gone does not start a deadline of
    its own: once the outage is older than the deadline, a request is tried once."""
    policy = RetryPolicy(deadline=1.0, backoff=0.05, backoff_cap=0.1)
    calls = 0

    async def refused() -> tuple[int, bytes]:
        nonlocal calls
        calls += 1
        raise HttpError("cannot connect to 127.0.0.1:9: Connection refused")

    async def three_requests() -> None:
        for _ in range(3):
            with pytest.raises(EsUnavailable):
                await policy.run("GET", "/x", "http://127.0.0.1:9", refused)

    started = time.monotonic()
    asyncio.run(three_requests())
    seconds = time.monotonic() - started
    assert seconds < 2.0, f"three requests of one outage took {seconds:.1f}s, deadline 1 s"
    first = calls
    assert first >= 3

    async def back() -> tuple[int, bytes]:
        return 200, b"{}"

    assert asyncio.run(policy.run("GET", "/x", "http://127.0.0.1:9", back)) == (200, b"{}")
    assert policy.outage.since is None, "a success ends the outage"


def test_a_long_wait_says_what_it_waits_for(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(defaults, "PROGRESS_SECONDS", 0.2)
    policy = RetryPolicy(deadline=1.0, backoff=0.05, backoff_cap=0.1)

    async def busy() -> tuple[int, bytes]:
        return 503, b'{"error": {"type": "unavailable", "reason": "restarting"}}'

    with caplog.at_level(logging.WARNING, logger="connectors.retry"), pytest.raises(EsUnavailable):
        asyncio.run(policy.run("POST", "/idx/_search", "http://127.0.0.1:9200", busy))
    lines = [r.getMessage() for r in caplog.records if "retrying for up to" in r.getMessage()]
    assert len(lines) >= 3, lines
    assert "POST /idx/_search at http://127.0.0.1:9200: HTTP 503" in lines[-1]


def test_a_sync_against_a_closed_port_ends_at_its_deadline_in_one_line(tmp_path: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens
    env = {
        **os.environ,
        "CONNECTORS_ES_URL": f"http://127.0.0.1:{port}",
        "CONNECTORS_ES_RETRY_SECONDS": "3",
        "CONNECTORS_ES_RETRY_BACKOFF_CAP_SECONDS": "0.5",
    }
    started = time.monotonic()
    done = subprocess.run(
        ["connectors", "sync", "anything"], capture_output=True, text=True, env=env, timeout=60
    )
    seconds = time.monotonic() - started
    assert done.returncode == 1
    assert seconds < 8, f"a closed port took {seconds:.1f}s to report, deadline 3 s"
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("connectors: Elasticsearch") and f"127.0.0.1:{port}" in last, last
    assert "Connection refused" in last or "cannot connect" in last, last
    waiting = [line for line in done.stderr.splitlines() if "retrying for up to" in line]
    assert waiting, f"nothing said while it waited: {done.stderr!r}"
