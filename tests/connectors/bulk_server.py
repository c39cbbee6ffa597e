"""A real HTTP server that plays Elasticsearch's ``_bulk`` endpoint from a script, so the
sink is tested through its production transport (aiohttp, headers, status handling).

Each request takes the next step of the script: ``"ok"`` (every item 201), a list of
per-item statuses (or outcome dicts sent as they are), an HTTP status for the whole request
(429 and 503 come with ``Retry-After``), ``"drop"`` (the connection is closed without an
answer), or ``"short"`` (every item 201, but the last one missing from the answer).
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

ITEM_ERRORS = {400: "mapper_parsing_exception", 429: "es_rejected_execution_exception"}


class ScriptedBulkServer:
    def __init__(self, script: list[Any]) -> None:
        self.script = list(script)
        self.calls: list[bytes] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> ScriptedBulkServer:
        app = web.Application()
        app.router.add_post("/_bulk", self._bulk)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _bulk(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.calls.append(body)
        self.paths.append(request.path_qs)
        self.headers.append(dict(request.headers))
        step = self.script.pop(0) if self.script else "ok"
        if step == "drop":
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        if isinstance(step, int):
            return web.Response(status=step, text=f"scripted {step}", headers={"Retry-After": "0"})
        items = []
        actions = [
            line for line in body.split(b"\n") if line.startswith((b'{"index"', b'{"delete"'))
        ]
        for i, line in enumerate(actions):
            action = "index" if line.startswith(b'{"index"') else "delete"
            spec = 201 if step in ("ok", "short") else step[i]
            if isinstance(spec, dict):
                items.append({action: spec})
                continue
            status = spec
            outcome: dict[str, Any] = {"status": status}
            if status >= 400:
                outcome["error"] = {
                    "type": ITEM_ERRORS.get(status, "x"),
                    "reason": f"scripted {status}",
                }
            items.append({action: outcome})
        if step == "short":
            items.pop()
        return web.Response(body=orjson.dumps({"items": items}), content_type="application/json")
