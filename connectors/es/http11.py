"""HTTP/1.1 with keep-alive: the transport of the runtime's Elasticsearch client.

Framing is h11's (a maintained, exact HTTP/1.1 state machine with no I/O of its own, 14 ms
to import): it reads lengths, chunks and message ends, and says whether a connection
may carry another request. This module adds only what h11 leaves to its caller:

- sockets (an asyncio protocol per connection) and a pool of idle ones;
- never reusing a connection that holds a byte the last answer did not account for (an
  answer shorter than its bytes, a body after a HEAD answer, anything sent while idle):
  the next request would read it as its own answer;
- bounds on what an answer may cost: its size, before and after decompression, and the
  ratio between the two (a gzip bomb stops at the bound, not at the memory's end);
- a reused connection found closed before any byte of its answer: an idempotent
  request is sent again once, on another connection.

aiohttp did this job before at 170 ms of every ``connectors`` start (docs/performance.md).
Errors say what happened to the exchange; the client adds which operation, and where.
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from dataclasses import dataclass

import h11

from connectors import defaults

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
MAX_HEADER_BYTES = 64 * 1024
DECOMPRESSION_FLOOR = 1024 * 1024  # below this a high ratio is just a small, repetitive answer


class HttpError(Exception):
    """No complete, usable answer: the connection was refused, dropped or answered garbage,
    or the answer was over a bound."""


class HttpTlsError(HttpError):
    """The TLS handshake failed: waiting will not make a certificate valid."""


@dataclass(frozen=True)
class Limits:
    """What one answer may cost."""

    max_bytes: int = defaults.ES_MAX_ANSWER_BYTES
    max_ratio: int = defaults.ES_MAX_DECOMPRESSION_RATIO


class _Stale(Exception):
    """A reused connection was found closed before any byte of the answer."""


class _Link(asyncio.Protocol):
    """One connection: what arrives is handed to h11, and the request waiting is woken."""

    def __init__(self) -> None:
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEADER_BYTES)
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self.reused = False
        self.stray = False  # a byte arrived that no request asked for
        self.received = 0  # bytes of the current answer so far
        self.lost: BaseException | None = None
        self.ended = False  # h11 was told the connection ended
        self._wake = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if not self.busy:
            self.stray = True
        self.received += len(data)
        self.h11.receive_data(data)
        self._wake.set()

    def eof_received(self) -> bool:
        self._end()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc
        self._end()

    def _end(self) -> None:
        if not self.ended:
            self.ended = True
            self.h11.receive_data(b"")
        self._wake.set()

    def reusable(self) -> bool:
        transport = self.transport
        return not (self.ended or self.stray or transport is None or transport.is_closing())

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    async def next_event(self) -> object:
        """h11's next event, waiting for bytes as long as the connection lives."""
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            if self.ended:
                raise ConnectionError(str(self.lost or "the connection closed"))
            self._wake.clear()
            await self._wake.wait()


class HttpPool:
    """Keep-alive connections to one ``scheme://host:port``; ``request`` is safe to call
    concurrently (each call holds a connection of its own)."""

    def __init__(
        self,
        scheme: str,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.tls = ssl_context or (ssl.create_default_context() if scheme == "https" else None)
        self.host_header = f"{host}:{port}"
        self.limits = limits or Limits()
        self._idle: list[_Link] = []

    async def request(
        self, method: str, target: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, bytes]:
        while True:
            link = await self._acquire()
            try:
                status, payload = await self._exchange(link, method, target, headers, body)
            except _Stale:
                link.close()
                if method in IDEMPOTENT:
                    continue  # the next connection is a fresh one or another idle one
                raise HttpError(
                    "the connection was closed by the server before it answered"
                ) from None
            except BaseException:
                link.close()  # half-read or cancelled (timeout): never reusable
                raise
            link.busy = False
            if _reusable(link):
                link.h11.start_next_cycle()
                link.reused = True
                self._idle.append(link)
            else:
                link.close()
            return status, payload

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for link in idle:
            link.close()

    async def _acquire(self) -> _Link:
        while self._idle:
            link = self._idle.pop()
            if link.reusable():
                return link
            link.close()
        loop = asyncio.get_running_loop()
        try:
            _transport, link = await loop.create_connection(
                _Link,
                self.host,
                self.port,
                ssl=self.tls,
                server_hostname=self.host if self.tls else None,
            )
        except ssl.SSLError as exc:
            raise HttpTlsError(f"{type(exc).__name__}: {exc}") from None
        except OSError as exc:
            raise HttpError(
                f"cannot connect to {self.host}:{self.port}: {exc.strerror or exc}"
            ) from None
        return link

    async def _exchange(
        self, link: _Link, method: str, target: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, bytes]:
        link.busy, link.received = True, 0
        fields = [("host", self.host_header), *headers.items()]
        if body is not None or method in ("POST", "PUT"):
            fields.append(("content-length", str(len(body or b""))))
        try:
            wire = link.h11.send(h11.Request(method=method, target=target, headers=fields))
            wire = (wire or b"") + (link.h11.send(h11.Data(data=body)) or b"" if body else b"")
            wire += link.h11.send(h11.EndOfMessage()) or b""
        except h11.LocalProtocolError as exc:
            raise HttpError(f"the request cannot be sent: {exc}") from None
        assert link.transport is not None
        link.transport.write(wire)
        try:
            return await _read_answer(link, self.limits)
        except (h11.RemoteProtocolError, ConnectionError, OSError) as exc:
            if link.reused and link.received == 0 and link.ended:
                raise _Stale from None
            if link.received == 0 and link.ended:
                raise HttpError("the server closed the connection without answering") from None
            if link.ended:
                raise HttpError(f"the answer was cut short: {exc}") from None
            raise HttpError(f"a malformed answer: {exc}") from None


async def _read_answer(link: _Link, limits: Limits) -> tuple[int, bytes]:
    response: h11.Response | None = None
    decoder: _Decoder | None = None
    while True:
        event = await link.next_event()
        if isinstance(event, h11.InformationalResponse):
            continue
        if isinstance(event, h11.Response):
            response = event
            size = sum(len(name) + len(value) + 4 for name, value in event.headers)
            if size > MAX_HEADER_BYTES:
                raise HttpError(
                    f"a malformed answer: {size} bytes of headers, over {MAX_HEADER_BYTES}"
                )
            decoder = _Decoder(_header(event, b"content-encoding"), limits)
            declared = _header(event, b"content-length")
            if declared.isdigit() and int(declared) > limits.max_bytes:
                raise HttpError(
                    f"the answer declares {int(declared)} bytes, over the "
                    f"{limits.max_bytes}-byte bound (CONNECTORS_ES_MAX_ANSWER_MB)"
                )
        elif isinstance(event, h11.Data):
            assert decoder is not None
            decoder.feed(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            assert response is not None and decoder is not None
            return response.status_code, decoder.result()
        elif isinstance(event, h11.ConnectionClosed):
            raise ConnectionError("the connection closed")


def _reusable(link: _Link) -> bool:
    """Both sides done, nothing unread, nothing that came unasked."""
    connection = link.h11
    if connection.our_state is not h11.DONE or connection.their_state is not h11.DONE:
        return False
    unread, closed = connection.trailing_data
    return not unread and not closed and link.reusable()


def _header(event: h11.Response, name: bytes) -> bytes:
    return next((value.lower() for key, value in event.headers if key == name), b"")


class _Decoder:
    """The body as it arrives, decompressed on the way when the server compressed it (a
    proxy in front of the cluster may, unasked), within the bounds."""

    def __init__(self, encoding: bytes, limits: Limits) -> None:
        self.limits, self.raw, self.size = limits, 0, 0
        self.parts: list[bytes] = []
        self.inflate = (
            zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header
            if encoding in (b"gzip", b"x-gzip", b"deflate")
            else None
        )
        self.raw_deflate = False

    def feed(self, data: bytes) -> None:
        self.raw += len(data)
        if self.raw > self.limits.max_bytes:
            raise HttpError(f"the answer is over the {self.limits.max_bytes}-byte bound")
        if self.inflate is None:
            self.size += len(data)
            self.parts.append(data)
            return
        allowed = min(
            self.limits.max_bytes, max(DECOMPRESSION_FLOOR, self.limits.max_ratio * self.raw)
        )
        try:
            out = self.inflate.decompress(data, allowed - self.size + 1)
        except zlib.error:
            if self.raw_deflate or self.size:
                raise HttpError("a malformed answer: its compression is broken") from None
            self.raw_deflate, self.inflate = True, zlib.decompressobj(-zlib.MAX_WBITS)
            out = self.inflate.decompress(data, allowed - self.size + 1)
        self.size += len(out)
        if self.size > allowed or self.inflate.unconsumed_tail:
            if allowed == self.limits.max_bytes:
                raise HttpError(f"the answer inflates past the {self.limits.max_bytes}-byte bound")
            raise HttpError(
                f"the answer inflates more than {self.limits.max_ratio} times ({self.raw} "
                f"bytes -> over {self.size}): refused as a compression bomb"
            )
        self.parts.append(out)

    def result(self) -> bytes:
        if self.inflate is not None and not self.inflate.eof:
            raise HttpError("a malformed answer: its compressed body is cut short or broken")
        return b"".join(self.parts)
