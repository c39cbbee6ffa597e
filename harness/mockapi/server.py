"""The mock SaaS server: one process, many sites (one per test), each an API of the
registry with its own corpus, credentials and knobs.

    POST   /_admin/sites                 {api, name, seed, size, username, token, knobs?}
    DELETE /_admin/sites/<site>
    PUT    /_admin/sites/<site>/knobs    {latency_ms, rate_limit, ...}: see knobs.py
    PUT    /_admin/sites/<site>/token    {token}: new credentials (the expiry clock restarts)
    POST   /_admin/sites/<site>/change   an API-specific change; answers what it did
    GET    /_admin/sites/<site>/stats    requests, throttled, errors served, waits after 429
    GET    /_admin/sites/<site>/model    the corpus as JSON
    *      /<site>/...                   the API, under basic auth; a handler finds its
                                         path's {placeholders} in request["params"]

    python -m harness.mockapi.server --port 8080
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from harness.mockapi.api import MockApi, basic_auth_ok, registered_apis
from harness.mockapi.knobs import Knobs, Throttle

VERSION = "harness-mockapi 1"


@dataclass
class Site:
    name: str
    api: MockApi
    username: str
    token: str
    throttle: Throttle


class MockServer:
    def __init__(self) -> None:
        self.apis = registered_apis()
        self.sites: dict[str, Site] = {}

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/_admin/version", self.version)
        app.router.add_post("/_admin/sites", self.create_site)
        app.router.add_delete("/_admin/sites/{site}", self.delete_site)
        app.router.add_put("/_admin/sites/{site}/knobs", self.set_knobs)
        app.router.add_put("/_admin/sites/{site}/token", self.set_token)
        app.router.add_post("/_admin/sites/{site}/change", self.change)
        app.router.add_get("/_admin/sites/{site}/stats", self.stats)
        app.router.add_get("/_admin/sites/{site}/model", self.model)
        app.router.add_route("*", "/{site}/{path:.*}", self.serve_api)
        return app

    # -- admin ------------------------------------------------------------------------

    async def version(self, request: web.Request) -> web.Response:
        return web.json_response({"version": VERSION, "apis": sorted(self.apis)})

    async def create_site(self, request: web.Request) -> web.Response:
        spec = await request.json()
        api_class = self.apis.get(spec.get("api", ""))
        if api_class is None:
            raise web.HTTPBadRequest(text=f"unknown api {spec.get('api')!r}; "
                                          f"known: {sorted(self.apis)}")  # fmt: skip
        name = str(spec["name"])
        if name.startswith("_") or "/" in name:
            raise web.HTTPBadRequest(text=f"site name {name!r}: no '/' and no leading '_'")
        try:
            knobs = Knobs.from_dict(spec.get("knobs") or {})
        except (TypeError, ValueError) as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        api = api_class(int(spec.get("seed", 0)), int(spec.get("size", 10)), f"/{name}")
        site = Site(name, api, str(spec["username"]), str(spec["token"]), Throttle(knobs))
        api.after_page = lambda: self._churn(site)
        self.sites[name] = site
        return web.json_response({"site": name, "base_path": f"/{name}"}, status=201)

    def _site(self, request: web.Request) -> Site:
        site = self.sites.get(request.match_info["site"])
        if site is None:
            raise web.HTTPNotFound(text=f"no site {request.match_info['site']!r}")
        return site

    async def delete_site(self, request: web.Request) -> web.Response:
        self.sites.pop(request.match_info["site"], None)
        return web.json_response({"deleted": request.match_info["site"]})

    async def set_knobs(self, request: web.Request) -> web.Response:
        site = self._site(request)
        try:
            site.throttle.knobs = site.throttle.knobs.updated(await request.json())
        except (TypeError, ValueError) as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        return web.json_response(site.throttle.report()["knobs"])

    async def set_token(self, request: web.Request) -> web.Response:
        site = self._site(request)
        site.token = str((await request.json())["token"])
        site.throttle.credentials_set_at = time.monotonic()
        return web.json_response({"ok": True})

    async def change(self, request: web.Request) -> web.Response:
        site = self._site(request)
        try:
            done = site.api.change(await request.json())
        except (KeyError, ValueError) as exc:
            raise web.HTTPBadRequest(text=f"change refused: {exc}") from None
        return web.json_response(done)

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response(self._site(request).throttle.report())

    async def model(self, request: web.Request) -> web.Response:
        return web.json_response(self._site(request).api.model())

    # -- the APIs ---------------------------------------------------------------------

    def _churn(self, site: Site) -> None:
        for _ in range(site.throttle.knobs.churn_between_pages):
            site.api.churn()
            site.throttle.count("churned")

    async def serve_api(self, request: web.Request) -> web.StreamResponse:
        site = self._site(request)
        throttle = site.throttle
        if throttle.knobs.latency_ms:
            await asyncio.sleep(throttle.knobs.latency_ms / 1000)
        refused = throttle.decide(time.monotonic())
        if refused is not None:
            status, headers = refused
            return _error(status, "rate limited" if status == 429 else "unavailable", headers)
        if not basic_auth_ok(request, site.username, site.token):
            throttle.count("unauthorized")
            return _error(401, "Basic authentication with a valid API token is required")
        if throttle.token_expired(time.monotonic()):
            throttle.count("expired")
            return _error(401, "the API token has expired")
        path = "/" + request.match_info["path"]
        handler, params = _route(site.api, request.method, path)
        if handler is None:
            return _error(404, f"no route {request.method} {path}")
        request["params"] = params
        response: web.StreamResponse = await handler(request)
        return response


def _route(api: MockApi, method: str, path: str) -> tuple[Any, dict[str, str]]:
    for verb, pattern, handler in api.routes():
        if verb != method:
            continue
        params = _match(pattern, path)
        if params is not None:
            return handler, params
    return None, {}


def _match(pattern: str, path: str) -> dict[str, str] | None:
    want, got = pattern.strip("/").split("/"), path.strip("/").split("/")
    if len(want) != len(got):
        return None
    params = {}
    for w, g in zip(want, got, strict=True):
        if w.startswith("{") and w.endswith("}"):
            params[w[1:-1]] = g
        elif w != g:
            return None
    return params


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {"statusCode": status, "message": message}
    return web.Response(status=status, text=json.dumps(body), headers=headers,
                        content_type="application/json")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    print(f"mock API server on http://{args.host}:{args.port}", flush=True)
    web.run_app(MockServer().app(), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
