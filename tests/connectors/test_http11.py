"""The runtime's HTTP/1.1 transport against scripted servers: what a proxy, a restarting
node or a cut connection does to it. Elasticsearch itself is covered by every other test."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Awaitable, Callable

import pytest

from connectors.es.http11 import HttpError, HttpPool, Limits

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
        (b"garbage\r\n\r\n", "malformed answer: illegal status line"),
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


# -- hostile servers: each answer below once broke the transport or its next request ----


def _answer_each(answers: list[bytes], calls: list[int]) -> Handler:
    async def handler(reader, writer, number):  # type: ignore[no-untyped-def]
        while answers:
            await _read_request(reader)
            calls.append(number)
            writer.write(answers.pop(0))
            await writer.drain()
        await asyncio.sleep(5)

    return handler


def test_bytes_past_a_short_content_length_never_answer_the_next_request() -> None:
    """The answer says 2 bytes and sends a forged second answer after them: the
    connection holds bytes nobody asked for, so it is never reused (the forged answer
    was once read as the next request's)."""
    forged = b'HTTP/1.1 200 OK\r\ncontent-length: 20\r\n\r\n{"_source":"forged"}'
    calls: list[int] = []
    answers = [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok" + forged, OK, OK]

    async def test(pool: HttpPool) -> None:
        assert await pool.request("GET", "/a", {}, None) == (200, b"ok")
        assert await pool.request("GET", "/b", {}, None) == (200, b"ok")

    _serve(_answer_each(answers, calls), calls, test)
    assert calls == [1, 2], "the connection with unread bytes was reused"


def test_a_body_after_a_head_answer_is_not_read_as_the_next_answer() -> None:
    calls: list[int] = []
    head = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nextra"
    answers = [head, OK, OK]

    async def test(pool: HttpPool) -> None:
        assert await pool.request("HEAD", "/", {}, None) == (200, b"")
        assert await pool.request("GET", "/", {}, None) == (200, b"ok")

    _serve(_answer_each(answers, calls), calls, test)
    assert calls == [1, 2]


def test_bytes_sent_to_an_idle_connection_retire_it() -> None:
    calls: list[int] = []

    async def handler(reader, writer, number):  # type: ignore[no-untyped-def]
        await _read_request(reader)
        calls.append(number)
        writer.write(OK)
        if number == 1:
            await asyncio.sleep(0.2)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nforged")
        await writer.drain()
        await asyncio.sleep(5)

    async def test(pool: HttpPool) -> None:
        assert await pool.request("GET", "/", {}, None) == (200, b"ok")
        await asyncio.sleep(0.5)  # a stretch of idleness, not a wait for state
        assert await pool.request("GET", "/", {}, None) == (200, b"ok")

    _serve(handler, calls, test)
    assert calls == [1, 2]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (b"HTTP/1.1 200 OK\r\ncontent-length: 4294967296\r\n\r\n", "declares 4294967296 bytes"),
        (
            b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: %d\r\n\r\n%s"
            % (len(BOMB := gzip.compress(b"\0" * (64 * 1024 * 1024))), BOMB),
            "compression bomb|inflates past",
        ),
        (b"HTTP/1.1 200 OK\r\nx-big: " + b"a" * (100 * 1024) + b"\r\n\r\n", "malformed"),
        (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nabc", "cut short"),
        (b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: 3\r\n\r\nabc", "compress"),
    ],
    ids=["4 GB content-length", "gzip bomb", "huge header", "truncated chunk", "bad gzip"],
)
def test_an_answer_over_a_bound_or_broken_is_refused_without_buffering(
    answer: bytes, message: str
) -> None:
    async def handler(reader, writer, number):  # type: ignore[no-untyped-def]
        await _read_request(reader)
        writer.write(answer)
        await writer.drain()

    async def test(pool: HttpPool) -> None:
        with pytest.raises(HttpError, match=message):
            await pool.request("GET", "/", {}, None)

    _serve(handler, [], test)


def test_a_small_bound_holds() -> None:
    """The bounds are the pool's: a 1 KB bound refuses a 2 KB answer."""

    async def handler(reader, writer):  # type: ignore[no-untyped-def]
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n800\r\n" + b"x" * 2048)
        await writer.drain()
        await asyncio.sleep(1)

    async def main() -> None:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        pool = HttpPool("http", "127.0.0.1", port, limits=Limits(max_bytes=1024))
        try:
            with pytest.raises(HttpError, match="over the 1024-byte bound"):
                await asyncio.wait_for(pool.request("GET", "/", {}, None), 20)
        finally:
            await pool.close()
            server.close()

    asyncio.run(main())


def test_a_reset_mid_answer_is_an_http_error() -> None:
    async def handler(reader, writer, number):  # type: ignore[no-untyped-def]
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
        await writer.drain()
        writer.transport.abort()  # RST, not FIN

    async def test(pool: HttpPool) -> None:
        with pytest.raises(HttpError, match="cut short"):
            await pool.request("GET", "/", {}, None)

    _serve(handler, [], test)
