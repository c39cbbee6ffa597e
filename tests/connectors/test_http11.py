"""The runtime's HTTP/1.1 transport against scripted servers: what a proxy, a restarting
node or a cut connection does to it. Elasticsearch itself is covered by every other test."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Awaitable, Callable

import pytest

from connectors.es.http11 import HttpError, HttpPool

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]
OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))
    return head


def _serve(handler: Handler, calls: list[int], test: Callable[[HttpPool], Awaitable[None]]) -> None:
    """Run ``test`` against a server that hands each connection to ``handler`` with its
    number; ``calls`` collects the connection numbers that served a request."""

    async def main() -> None:
        count = 0

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal count
            count += 1
            try:
                await handler(reader, writer, count)
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        pool = HttpPool("http", "127.0.0.1", port)
        try:
            await asyncio.wait_for(test(pool), 20)
        finally:
            await pool.close()
            server.close()

    asyncio.run(main())


def test_connections_are_kept_alive_and_reused() -> None:
    calls: list[int] = []

    async def handler(reader, writer, number):  # type: ignore[no-untyped-def]
        while True:
            await _read_request(reader)
            calls.append(number)
            writer.write(OK)
            await writer.drain()

    async def test(pool: HttpPool) -> None:
        for _ in range(3):
            assert await pool.request("GET", "/", {}, None) == (200, b"ok")

    _serve(handler, calls, test)
    assert calls == [1, 1, 1]


def test_chunked_and_gzip_answers_are_decoded() -> None:
    packed = gzip.compress(b'{"a": 1}')
    answer = (
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-encoding: gzip\r\n\r\n"
        + b"%x\r\n" % 5 + packed[:5] + b"\r\n"
        + b"%x;ext=1\r\n" % (len(packed) - 5) + packed[5:] + b"\r\n0\r\n\r\n"
    )  # fmt: skip

    async def handler(reader, writer, number):  # type: ignore[no-untyped-def]
        await _read_request(reader)
        writer.write(answer)
        await writer.drain()

    async def test(pool: HttpPool) -> None:
        assert await pool.request("POST", "/x", {}, b"{}") == (200, b'{"a": 1}')

    _serve(handler, [], test)


def test_an_idle_connection_the_server_closed_is_replaced_for_a_get_only() -> None:
    """A reused connection found closed: a GET is sent again on a new one; a POST is not
    (it may have been applied), and says so."""
    calls: list[int] = []

    async def handler(reader, writer, number):  # type: ignore[no-untyped-def]
        await _read_request(reader)
        calls.append(number)
        writer.write(OK)
        await writer.drain()
        if number == 1:
            await _read_request(reader)  # the second request arrives, and is dropped
        else:
            await asyncio.sleep(30)

    async def get_then_get(pool: HttpPool) -> None:
        assert await pool.request("GET", "/", {}, None) == (200, b"ok")
        assert await pool.request("GET", "/", {}, None) == (200, b"ok")

    _serve(handler, calls, get_then_get)
    assert calls == [1, 2]

    async def get_then_post(pool: HttpPool) -> None:
        assert await pool.request("GET", "/", {}, None) == (200, b"ok")
        with pytest.raises(HttpError, match="closed by the server before it answered"):
            await pool.request("POST", "/_bulk", {}, b"x")

    _serve(handler, [], get_then_post)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (b"garbage\r\n\r\n", "not an HTTP answer"),
        (b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort", "cut short"),
        (b"HTTP/1.1 200 OK\r\ncontent-length: ten\r\n\r\n", "malformed"),
        (b"", "closed the connection without answering"),
    ],
)
def test_a_bad_or_cut_answer_is_an_http_error(answer: bytes, message: str) -> None:
    async def handler(reader, writer, number):  # type: ignore[no-untyped-def]
        await _read_request(reader)
        writer.write(answer)
        await writer.drain()

    async def test(pool: HttpPool) -> None:
        with pytest.raises(HttpError, match=message):
            await pool.request("GET", "/", {}, None)

    _serve(handler, [], test)


def test_a_refused_connection_names_where() -> None:
    async def main() -> None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        with pytest.raises(HttpError, match=f"cannot connect to 127.0.0.1:{port}"):
            await HttpPool("http", "127.0.0.1", port).request("GET", "/", {}, None)

    asyncio.run(main())


def test_a_timed_out_request_leaves_no_connection_to_reuse() -> None:
    """Cancelled mid-answer (the client's timeout), a connection holds the rest of an old
    answer: the next request must not read it."""
    calls: list[int] = []

    async def handler(reader, writer, number):  # type: ignore[no-untyped-def]
        await _read_request(reader)
        calls.append(number)
        if number == 1:
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nst")
            await writer.drain()
            await asyncio.sleep(1)
            writer.write(b"le")
        else:
            writer.write(OK)
        await writer.drain()
        await asyncio.sleep(2)

    async def test(pool: HttpPool) -> None:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):
                await pool.request("GET", "/", {}, None)
        assert await pool.request("GET", "/", {}, None) == (200, b"ok")

    _serve(handler, calls, test)
    assert calls == [1, 2]
