"""Every request the runtime makes of Elasticsearch (state, scans, refresh, count) is
retried through 429/5xx answers, dropped connections and timeouts, and fails with the
operation and the server named."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from aiohttp import web

from connectors.es.client import EsSettings, es_client
from connectors.es.retrying import EsUnavailable


class FlakyServer:
    """Answers each request with the next status of a script (then 200), with a body in
    Elasticsearch's error shape."""

    def __init__(self, script: list[int], stall: float = 0.0) -> None:
        self.script = list(script)
        self.stall = stall  # the first request is held this long: a stalled cluster
        self.seen: list[str] = []
        self.url = ""

    async def __aenter__(self) -> FlakyServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.answer)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.runner.cleanup()

    async def answer(self, request: web.Request) -> web.Response:
        self.seen.append(f"{request.method} {request.path}")
        if len(self.seen) == 1 and self.stall:
            await asyncio.sleep(self.stall)
        status = self.script.pop(0) if self.script else 200
        body: dict[str, Any] = {"count": 7}
        if status >= 400:
            body = {"error": {"type": "unavailable_shards_exception", "reason": "busy"}}
        return web.json_response(
            body, status=status, headers={"X-Elastic-Product": "Elasticsearch"}
        )


def run(settings_for, script, call, stall: float = 0.0):
    async def go():
        async with FlakyServer(script, stall) as server:
            client = es_client(settings_for(server.url))
            try:
                return server, await call(client)
            finally:
                await client.close()

    return asyncio.run(go())


def quick(url: str, deadline: float = 30.0) -> EsSettings:
    return EsSettings(url, retry_deadline=deadline)


def test_busy_answers_are_retried_until_one_succeeds():
    server, found = run(quick, [503, 429, 502], lambda c: c.count(index="idx"))
    assert found["count"] == 7
    assert server.seen == ["POST /idx/_count"] * 4 or server.seen == ["GET /idx/_count"] * 4


def test_a_request_that_keeps_failing_names_the_operation_and_the_server():
    with pytest.raises(EsUnavailable) as failed:
        run(lambda url: quick(url, deadline=1.0), [503] * 1000, lambda c: c.count(index="idx"))
    message = str(failed.value)
    assert "/idx/_count at http://127.0.0.1:" in message
    assert "HTTP 503 unavailable_shards_exception: busy" in message


def test_an_unreachable_server_is_named_with_the_reason():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there

    async def go():
        client = es_client(EsSettings(f"http://user:s3cret@127.0.0.1:{port}", retry_deadline=1))
        try:
            await client.count(index="idx")
        finally:
            await client.close()

    with pytest.raises(EsUnavailable) as failed:
        asyncio.run(go())
    message = str(failed.value)
    assert f"at http://127.0.0.1:{port}" in message
    assert "refused" in message.lower()
    assert "s3cret" not in message


def test_a_stall_longer_than_the_request_timeout_is_waited_out():
    def settings(url: str) -> EsSettings:
        return EsSettings(url, request_timeout=0.5, retry_deadline=30)

    server, found = run(settings, [], lambda c: c.count(index="idx"), stall=2.0)
    assert found["count"] == 7
    assert len(server.seen) >= 2, "the timed-out request was retried"
