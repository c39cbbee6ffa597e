"""The runtime's Elasticsearch client against servers that answer badly, slowly or not
at all: every failure ends in bounded time and names the operation and the server (not
``connectors: 'hits'`` nor ``ApiError(999, '', '')``)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable

import pytest

from connectors.es.rest import ApiError, EsClient
from connectors.es.retrying import EsUnavailable, RetryPolicy

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
DEADLINE = 1.5


async def _request_head(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))


def _answering(answer: bytes) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await _request_head(reader)
            writer.write(answer)
            await writer.drain()

    return handler


async def _trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _request_head(reader)
    for byte in b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}":
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(0.2)


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _request_head(reader)
    await asyncio.sleep(30)


async def _reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _request_head(reader)
    writer.transport.abort()


def _call(handler: Handler, call: Callable[[EsClient], Awaitable[object]]) -> tuple[str, float]:
    async def main() -> tuple[str, float]:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = EsClient(
            f"http://127.0.0.1:{port}",
            request_timeout=0.5,
            policy=RetryPolicy(deadline=DEADLINE, backoff=0.05, backoff_cap=0.2),
        )
        started = time.monotonic()
        try:
            with pytest.raises((ApiError, EsUnavailable)) as failed:
                await asyncio.wait_for(call(client), 30)
            return str(failed.value), time.monotonic() - started
        finally:
            await client.close()
            server.close()

    return asyncio.run(main())


def _search(client: EsClient) -> Awaitable[object]:
    return client.search(index="items", size=1)


@pytest.mark.parametrize(
    ("handler", "says"),
    [
        (_answering(b"HTTP/1.1 999 Odd\r\ncontent-length: 2\r\n\r\n{}"), "999"),
        (_answering(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"), "not JSON"),
        (_answering(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"), "has no 'hits'"),
        (_answering(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n[]"), "not a JSON object"),
        (_trickle, "TimeoutError"),
        (_silent, "TimeoutError"),
        (_reset, "cut short|closed the connection"),
    ],
    ids=["status 999", "non-JSON 200", "no hits", "a list", "trickle", "silence", "reset"],
)
def test_a_bad_answer_names_the_operation_and_the_server(handler: Handler, says: str) -> None:
    message, seconds = _call(handler, _search)
    assert "POST /items/_search at http://127.0.0.1:" in message, message
    assert re.search(says, message), message
    assert "\n" not in message
    assert seconds < DEADLINE + 1.5, f"gave up after {seconds:.1f}s, deadline {DEADLINE}s"
