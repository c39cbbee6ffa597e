"""A fault-injecting proxy on 127.0.0.1, switched from the test while a sync runs.

HTTP mode (Elasticsearch) understands requests, so faults aim at a path pattern: answer
429 (with ``Retry-After``) or 503 to every n-th matching request, drop the connection
before forwarding, forward and cut the answer half-way, or refuse some items of a `_bulk`
request and forward the rest (bulk_items.py). TCP mode (a database) relays
bytes and can cut every live connection at once. Both add latency, stall everything for
a while, and count bytes each way. Faults hit every n-th match, not a random share, so a
scenario does the same thing on every run.

It runs on its own event loop in a thread of the test process: it dies with the test, so
it cannot be orphaned, and the test reads its counters directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
import orjson
from aiohttp import web

from harness.faults import bulk_items
from harness.services.ports import LOOPBACK

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass
class Rule:
    pattern: re.Pattern[str]  # matched against "METHOD /path"
    action: str  # "status", "drop" or "cut"
    every: int = 1
    status: int = 503
    limit: int | None = None  # stop after this many faults
    seen: int = 0
    fired: int = 0

    @property
    def name(self) -> str:
        return f"{self.status}" if self.action == "status" else self.action

    def hits(self, request_line: str) -> bool:
        if not self.pattern.search(request_line):
            return False
        self.seen += 1
        if self.seen % self.every or (self.limit is not None and self.fired >= self.limit):
            return False
        self.fired += 1
        return True


@dataclass
class FaultStats:
    requests: int = 0
    forwarded: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    bytes_up: int = 0
    bytes_down: int = 0
    connections_cut: int = 0
    # Actions forwarded to Elasticsearch per document id, in requests item faults apply to.
    bulk_ids: Counter[str] = field(default_factory=Counter)


class FaultProxy:
    def __init__(
        self, host: str, port: int, http: bool = True, tls: ssl.SSLContext | None = None
    ) -> None:
        """``tls``: HTTP mode serves HTTPS with this server context (a TLS front for a
        plain-HTTP cluster, to test clients' certificate settings)."""
        self.upstream = (host, port)
        self.http = http
        self.tls = tls
        self.stats = FaultStats()
        self._rules: list[Rule] = []
        self._item_rules: list[tuple[re.Pattern[str], bulk_items.ItemRule]] = []
        self._hooks: list[tuple[re.Pattern[str], Callable[[], object]]] = []
        self._latency = 0.0
        self._rate = 0
        self._stalled_until = 0.0
        self._cut_at: int | None = None
        self._hold_at: int | None = None
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._serve, name="fault-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the fault proxy did not start within 30s")
        self.address: tuple[str, int] = self._address

    # -- what a test switches ----------------------------------------------------------

    def fail(
        self, pattern: str, status: int = 503, every: int = 1, limit: int | None = None
    ) -> Rule:
        return self._add(Rule(re.compile(pattern), "status", every, status, limit))

    def drop(self, pattern: str, every: int = 1, limit: int | None = None) -> Rule:
        return self._add(Rule(re.compile(pattern), "drop", every, limit=limit))

    def cut(self, pattern: str, every: int = 1, limit: int | None = None) -> Rule:
        return self._add(Rule(re.compile(pattern), "cut", every, limit=limit))

    def refuse_items(
        self, pattern: str, status: int = 429, every: int = 3, limit: int = 1 << 30
    ) -> bulk_items.ItemRule:
        """Refuse every ``every``-th action of matching bulk requests with ``status`` (at
        most ``limit``), forwarding the others: a mixed answer, item by item."""
        rule = bulk_items.ItemRule(status, every, limit)
        with self._lock:
            self._item_rules.append((re.compile(pattern), rule))
        return rule

    def latency(self, seconds: float) -> None:
        self._latency = seconds

    def throttle(self, bytes_per_second: int) -> None:
        """TCP mode: what comes back from upstream trickles at this rate, so a read of even
        a tiny corpus lasts long enough to be disrupted part-way."""
        self._rate = bytes_per_second

    def hold(self) -> None:
        """Hold every request and relayed byte until ``release``: a reader blocked at a
        known point, so a scenario can disrupt something else while it waits."""
        self._stalled_until = math.inf

    def hold_after(self, bytes_down: int) -> None:
        """TCP mode: hold (as ``hold``) once this many bytes in all have come back from
        upstream. The proxy holds at the byte, on its own loop: a scenario that polls for
        the moment to hold would, on a loaded machine, hold wherever its poll came late,
        even past a small corpus's last batch."""
        self._hold_at = bytes_down
        if self.stats.bytes_down >= bytes_down:
            self.hold()

    @property
    def holding(self) -> bool:
        return self._stalled_until == math.inf

    def release(self) -> None:
        """End a hold (or a stall) and any throttle: the rest flows at full speed."""
        self._hold_at = None
        self._stalled_until = 0.0
        self._rate = 0

    def stall(self, seconds: float) -> None:
        """Hold every request (and every relayed byte) for this long from now."""
        self._stalled_until = time.monotonic() + seconds

    def cut_after(self, bytes_down: int) -> None:
        """TCP mode: once this many more bytes have come back from upstream, cut every live
        connection, once: a backend terminated part-way through a read."""
        self._cut_at = self.stats.bytes_down + bytes_down

    def cut_connections(self) -> int:
        """TCP mode: close every live connection now (a backend terminated mid-read)."""
        future = asyncio.run_coroutine_threadsafe(self._cut_all(), self._loop)
        return future.result(30)

    def before(self, pattern: str, action: Callable[[], object]) -> None:
        """HTTP mode: run ``action`` (in a worker thread) before forwarding each request
        whose ``"METHOD /path"`` matches: a scenario's own step at a protocol point, e.g.
        a refresh that makes every written document visible to the next search."""
        with self._lock:
            self._hooks.append((re.compile(pattern), action))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._item_rules.clear()
            self._hooks.clear()
        self._latency = 0.0
        self._rate = 0
        self._stalled_until = 0.0
        self._cut_at = None
        self._hold_at = None

    def url(self, scheme: str | None = None) -> str:
        scheme = scheme or ("https" if self.tls else "http")
        return f"{scheme}://{self.address[0]}:{self.address[1]}"

    def close(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(30)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- the proxy ---------------------------------------------------------------------

    def _add(self, rule: Rule) -> Rule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def _match(self, request_line: str) -> Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.hits(request_line):
                    return rule
        return None

    async def _delay(self) -> None:
        while (left := self._stalled_until - time.monotonic()) > 0:
            await asyncio.sleep(min(left, 0.5))  # a stall is the fault itself
        if self._latency:
            await asyncio.sleep(self._latency)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())
        self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        if self.http:
            self._session = aiohttp.ClientSession(
                f"http://{self.upstream[0]}:{self.upstream[1]}",
                auto_decompress=False,
                timeout=aiohttp.ClientTimeout(total=None),
            )
            app = web.Application(client_max_size=1 << 30)
            app.router.add_route("*", "/{tail:.*}", self._relay_http)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, LOOPBACK, 0, ssl_context=self.tls)
            await site.start()
            self._address = runner.addresses[0][:2]
        else:
            server = await asyncio.start_server(self._relay_tcp, LOOPBACK, 0)
            self._address = server.sockets[0].getsockname()[:2]
        self._ready.set()
        await self._stop.wait()
        if self.http:
            await runner.cleanup()
            await self._session.close()
        else:
            server.close()
            await self._cut_all()

    async def _relay_http(self, request: web.Request) -> web.StreamResponse:
        self.stats.requests += 1
        body = await request.read()
        self.stats.bytes_up += len(body)
        await self._delay()
        line = f"{request.method} {request.path}"
        with self._lock:
            hooks = [action for pattern, action in self._hooks if pattern.search(line)]
        for action in hooks:
            await asyncio.get_running_loop().run_in_executor(None, action)
        rule = self._match(line)
        if rule is not None:
            self.stats.faults[rule.name] += 1
            if rule.action == "status":
                return web.json_response(
                    {"error": {"type": "injected_fault", "reason": f"fault proxy: {rule.status}"}},
                    status=rule.status,
                    headers={"Retry-After": "1", "X-Elastic-Product": "Elasticsearch"},
                )
            if rule.action == "drop":
                assert request.transport is not None
                request.transport.close()
                return web.Response()
        elif body and (items := self._item_rules_for(line)):
            return await self._relay_items(request, body, items)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        async with self._session.request(
            request.method, request.path_qs, data=body or None, headers=headers
        ) as upstream:
            payload = await upstream.read()
            self.stats.forwarded += 1
            self.stats.bytes_down += len(payload)
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS}
            if rule is not None and rule.action == "cut":
                response = web.StreamResponse(status=upstream.status, headers=out)
                response.content_length = len(payload)
                await response.prepare(request)
                await response.write(payload[: len(payload) // 2])
                assert request.transport is not None
                request.transport.close()
                return response
            return web.Response(status=upstream.status, body=payload, headers=out)

    def _item_rules_for(self, line: str) -> list[bulk_items.ItemRule]:
        with self._lock:
            return [rule for pattern, rule in self._item_rules if pattern.search(line)]

    async def _relay_items(
        self, request: web.Request, body: bytes, rules: list[bulk_items.ItemRule]
    ) -> web.StreamResponse:
        """Forward the actions the rules keep; answer the others with their own items."""
        plain = bulk_items.request_body(body, request.headers.get("Content-Encoding", ""))
        actions = bulk_items.split_actions(plain)
        with self._lock:
            split = bulk_items.refuse(actions, rules, bulk_items.index_of(request.path))
        for item in split.refused.values():
            self.stats.faults[f"item {next(iter(item.values()))['status']}"] += 1
        answer = None
        if split.kept:
            self.stats.bulk_ids.update(str(a.meta.get("_id")) for a in split.kept)
            skip = HOP_HEADERS | {"content-encoding", "accept-encoding"}
            headers = {k: v for k, v in request.headers.items() if k.lower() not in skip}
            headers["Accept-Encoding"] = "identity"  # aiohttp would ask for gzip: read it plain
            kept = bulk_items.join_actions(split.kept)
            async with self._session.request(
                request.method, request.path_qs, data=kept, headers=headers
            ) as upstream:
                payload = await upstream.read()
                self.stats.forwarded += 1
                self.stats.bytes_down += len(payload)
                if upstream.status != 200:  # the whole request failed: pass that on
                    out = {k: v for k, v in upstream.headers.items() if k.lower() not in skip}
                    return web.Response(status=upstream.status, body=payload, headers=out)
                answer = orjson.loads(payload)
        merged = orjson.dumps(bulk_items.merge(answer, split))
        return web.Response(
            body=merged,
            content_type="application/json",
            headers={"X-Elastic-Product": "Elasticsearch"},
        )

    async def _relay_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.requests += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, up: bool) -> None:
            with contextlib.suppress(ConnectionError, OSError, asyncio.CancelledError):
                while data := await src.read(self._chunk(up)):
                    await self._delay()
                    if self._rate and not up:
                        await asyncio.sleep(len(data) / self._rate)  # the link's speed
                    if up:
                        self.stats.bytes_up += len(data)
                    else:
                        self.stats.bytes_down += len(data)
                        if self._hold_at is not None and self.stats.bytes_down >= self._hold_at:
                            self._hold_at = None
                            self.hold()  # this chunk goes on; the next waits in _delay
                        if self._cut_at is not None and self.stats.bytes_down >= self._cut_at:
                            self._cut_at = None
                            await self._cut_all()
                            return
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pump(reader, up_writer, True), pump(up_reader, writer, False))
        self._writers -= {writer, up_writer}

    def _chunk(self, up: bool) -> int:
        return 65536 if up or not self._rate else max(1, self._rate // 20)

    async def _cut_all(self) -> int:
        writers = list(self._writers)
        for w in writers:
            w.transport.abort()
        self.stats.connections_cut += len(writers) // 2
        return len(writers) // 2
