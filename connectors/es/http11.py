"""HTTP/1.1 with keep-alive over asyncio streams: the transport of the runtime's Elasticsearch
client.

Elasticsearch speaks plain JSON over HTTP/1.1 to one host, which is all this does. aiohttp
did it before, at 170 ms of every ``connectors`` start (its import builds two TLS contexts
from the system's CA bundle): a third of an empty-table sync (docs/performance.md).
Connections are pooled per client; an idle connection the server closed is replaced,
and an idempotent request that found one dead before any answer is sent again once.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import zlib
from dataclasses import dataclass

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
MAX_HEADER_BYTES = 64 * 1024


class HttpError(Exception):
    """No complete answer: the connection was refused, dropped or answered garbage."""


class HttpTlsError(HttpError):
    """The TLS handshake failed: waiting will not make a certificate valid."""


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    reused: bool = False

    def close(self) -> None:
        self.writer.close()


class _Stale(Exception):
    """A reused connection was found closed before any byte of the answer."""


class HttpPool:
    """Keep-alive connections to one ``scheme://host:port``; ``request`` is safe to call
    concurrently (each call holds a connection of its own)."""

    def __init__(
        self, scheme: str, host: str, port: int, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.host, self.port = host, port
        self.tls = ssl_context or (ssl.create_default_context() if scheme == "https" else None)
        self.host_header = f"{host}:{port}".encode()
        self._idle: list[_Connection] = []

    async def request(
        self, method: str, target: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, bytes]:
        head = self._head(method, target, headers, body)
        while True:
            connection = await self._acquire()
            try:
                status, payload, keep = await self._exchange(connection, method, head, body)
            except _Stale:
                connection.close()
                if method in IDEMPOTENT:
                    continue  # the next connection is a fresh one or another idle one
                raise HttpError(
                    "the connection was closed by the server before it answered"
                ) from None
            except BaseException:
                connection.close()  # half-read or cancelled (timeout): never reusable
                raise
            if keep:
                connection.reused = True
                self._idle.append(connection)
            else:
                connection.close()
            return status, payload

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
        for connection in idle:
            with contextlib.suppress(OSError, ssl.SSLError):
                await connection.writer.wait_closed()

    def _head(self, method: str, target: str, headers: dict[str, str], body: bytes | None) -> bytes:
        lines = [f"{method} {target} HTTP/1.1".encode(), b"host: " + self.host_header]
        lines += [f"{name}: {value}".encode("latin-1") for name, value in headers.items()]
        if body is not None or method in ("POST", "PUT"):
            lines.append(b"content-length: %d" % len(body or b""))
        return b"\r\n".join(lines) + b"\r\n\r\n"

    async def _acquire(self) -> _Connection:
        while self._idle:
            connection = self._idle.pop()
            if not connection.reader.at_eof() and not connection.writer.is_closing():
                return connection
            connection.close()
        try:
            reader, writer = await asyncio.open_connection(
                self.host,
                self.port,
                ssl=self.tls,
                server_hostname=self.host if self.tls else None,
                limit=MAX_HEADER_BYTES,
            )
        except ssl.SSLError as exc:
            raise HttpTlsError(f"{type(exc).__name__}: {exc}") from None
        except OSError as exc:
            raise HttpError(
                f"cannot connect to {self.host}:{self.port}: {exc.strerror or exc}"
            ) from None
        return _Connection(reader, writer)

    async def _exchange(
        self, connection: _Connection, method: str, head: bytes, body: bytes | None
    ) -> tuple[int, bytes, bool]:
        try:
            connection.writer.write(head + body if body else head)
            await connection.writer.drain()
            status_line = await connection.reader.readline()
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            if connection.reused:
                raise _Stale from None
            raise HttpError(f"the connection dropped before the answer: {exc}") from None
        if not status_line:
            if connection.reused:
                raise _Stale
            raise HttpError("the server closed the connection without answering")
        try:
            return await _read_answer(connection.reader, method, status_line)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            raise HttpError(f"the answer was cut short: {type(exc).__name__}") from None
        except (ValueError, zlib.error) as exc:  # a bad length, chunk size or compression
            raise HttpError(f"a malformed answer: {exc}") from None


async def _read_answer(
    reader: asyncio.StreamReader, method: str, status_line: bytes
) -> tuple[int, bytes, bool]:
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise HttpError(f"not an HTTP answer: {status_line[:80]!r}")
    status = int(parts[1])
    headers: dict[bytes, bytes] = {}
    while (line := await reader.readline()) not in (b"\r\n", b"\n"):
        if not line:
            raise HttpError("the connection closed in the answer's headers")
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    keep = headers.get(b"connection", b"").lower() != b"close" and parts[0] != b"HTTP/1.0"
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return status, b"", keep
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = await _read_chunked(reader)
    elif b"content-length" in headers:
        body = await reader.readexactly(int(headers[b"content-length"]))
    else:
        body, keep = await reader.read(), False  # delimited by the connection's end
    return status, _decoded(body, headers.get(b"content-encoding", b"").lower()), keep


def _decoded(body: bytes, encoding: bytes) -> bytes:
    """Unasked-for compression, as a proxy in front of the cluster may add."""
    if encoding in (b"gzip", b"x-gzip", b"deflate"):
        try:
            return zlib.decompress(body, zlib.MAX_WBITS | 32)  # gzip or zlib header
        except zlib.error:
            return zlib.decompress(body, -zlib.MAX_WBITS)  # raw deflate
    return body


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = await reader.readline()
        size = int(size_line.split(b";", 1)[0].strip() or b"x", 16)
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)
