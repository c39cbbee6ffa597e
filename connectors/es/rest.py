"""The runtime's Elasticsearch client: JSON over keep-alive HTTP/1.1 (``connectors.es.http11``),
for the dozen APIs the runtime calls, with the official client's call signatures so that
code reads the same.

The official client cost about 225 ms of every ``connectors`` start (its API namespaces,
three HTTP stacks) against an empty-table sync of 0.4 s: docs/performance.md. Requests say
``compatible-with=8``, which 8.x servers take and 9.x accept through REST compatibility.
Every request but ``_bulk`` is retried as ``connectors.es.retrying`` says."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import orjson

from connectors.es.http11 import HttpPool
from connectors.es.retrying import RetryPolicy

COMPAT_JSON = "application/vnd.elasticsearch+json; compatible-with=8"
COMPAT_NDJSON = "application/vnd.elasticsearch+x-ndjson; compatible-with=8"


class ApiError(Exception):
    """Elasticsearch answered with an error (retrying would not change it), or with an
    answer that is not one: the message names the operation and the server."""

    def __init__(self, status: int, body: Any, operation: str = "") -> None:
        self.status, self.body = status, body
        error = body.get("error") if isinstance(body, dict) else body
        if isinstance(error, dict):
            kind, reason = error.get("type", ""), error.get("reason", "")
        else:
            kind, reason = "", str(error or "")[:500]
        where = f" ({operation})" if operation else ""
        super().__init__(f"{type(self).__name__}({status}, {kind!r}, {reason!r}){where}")


class NotFoundError(ApiError):
    pass


class ConflictError(ApiError):
    pass


def _error(status: int, body: Any, operation: str = "") -> ApiError:
    kind = {404: NotFoundError, 409: ConflictError}.get(status, ApiError)
    return kind(status, body, operation)


def _params(**given: Any) -> dict[str, str]:
    shown = {}
    for key, value in given.items():
        if value is None:
            continue
        shown[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return shown


class Indices:
    def __init__(self, client: EsClient) -> None:
        self._client = client

    async def exists(self, *, index: str) -> bool:
        return await self._client.head(f"/{quote(index, safe='')}")

    async def create(
        self,
        *,
        index: str,
        mappings: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Any:
        body = {k: v for k, v in (("mappings", mappings), ("settings", settings)) if v}
        return await self._client.request("PUT", f"/{quote(index, safe='')}", body=body)

    async def refresh(self, *, index: str) -> Any:
        return await self._client.request("POST", f"/{quote(index, safe='')}/_refresh")

    async def get_settings(self, *, index: str) -> Any:
        return await self._client.request("GET", f"/{quote(index, safe='')}/_settings")

    async def get_mapping(self, *, index: str) -> Any:
        return await self._client.request("GET", f"/{quote(index, safe='')}/_mapping")


class EsClient:
    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        api_key: str | None = None,
        ssl_context: Any = None,
        request_timeout: float = 60.0,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        parts = urlsplit(self.url)
        self.where = f"{parts.scheme}://{parts.hostname}:{parts.port}"  # never credentials
        self.headers = {"accept": COMPAT_JSON, "content-type": COMPAT_JSON}
        if api_key:
            self.headers["authorization"] = f"ApiKey {api_key}"
        elif username:
            pair = f"{username}:{password or ''}".encode()
            self.headers["authorization"] = "Basic " + base64.b64encode(pair).decode()
        self.ssl_context, self.request_timeout = ssl_context, request_timeout
        self.policy = policy or RetryPolicy()
        self.indices = Indices(self)
        scheme = parts.scheme.lower()
        port = parts.port or (443 if scheme == "https" else 80)
        self._pool = HttpPool(scheme, parts.hostname or "localhost", port, ssl_context)
        self._prefix = parts.path.rstrip("/")  # a proxy's path in front of the cluster

    async def close(self) -> None:
        await self._pool.close()

    async def _send(
        self, method: str, target: str, data: bytes | None, headers: dict[str, str] | None
    ) -> tuple[int, bytes]:
        """One exchange within the request timeout (TimeoutError past it)."""
        async with asyncio.timeout(self.request_timeout):
            return await self._pool.request(
                method, self._prefix + target, {**self.headers, **(headers or {})}, data
            )

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
    ) -> Any:
        """One API call, retried through a busy or restarting cluster; its answer parsed."""
        target = path + (f"?{urlencode(params)}" if params else "")
        data = orjson.dumps(body) if body is not None else None
        status, payload = await self.policy.run(
            method, path, self.where, lambda: self._send(method, target, data, None)
        )
        operation = f"Elasticsearch {method} {path} at {self.where}"
        try:
            parsed = orjson.loads(payload) if payload else {}
        except orjson.JSONDecodeError:
            text = payload[:200].decode(errors="replace")
            raise ApiError(status, f"the answer is not JSON: {text!r}", operation) from None
        if status >= 400 or status < 200:
            raise _error(status, parsed, operation)
        if not isinstance(parsed, dict):
            raise ApiError(status, f"the answer is not a JSON object: {parsed!r:.200}", operation)
        return parsed

    async def head(self, path: str) -> bool:
        status, _ = await self.policy.run(
            "HEAD", path, self.where, lambda: self._send("HEAD", path, None, None)
        )
        if status >= 400 and status != 404:
            raise _error(status, {})
        return status < 300

    async def bulk(self, path: str, body: bytes) -> tuple[int, bytes]:
        """``_bulk`` as it is: not retried here, the bulk sink retries it item by item."""
        headers = {"content-type": COMPAT_NDJSON, "accept": COMPAT_JSON}
        return await self._send("POST", path, body, headers)

    # -- the official client's signatures, for what the runtime calls ---------------------

    async def get(self, *, index: str, id: str) -> Any:
        return await self.request("GET", f"/{quote(index, safe='')}/_doc/{quote(id, safe='')}")

    async def index(
        self,
        *,
        index: str,
        document: dict[str, Any],
        id: str | None = None,
        refresh: Any = None,
        if_seq_no: int | None = None,
        if_primary_term: int | None = None,
    ) -> Any:
        where = f"/{quote(index, safe='')}/_doc" + (f"/{quote(id, safe='')}" if id else "")
        params = _params(refresh=refresh, if_seq_no=if_seq_no, if_primary_term=if_primary_term)
        return await self.request("PUT" if id else "POST", where, params=params, body=document)

    async def create(
        self, *, index: str, id: str, document: dict[str, Any], refresh: Any = None
    ) -> Any:
        where = f"/{quote(index, safe='')}/_create/{quote(id, safe='')}"
        return await self.request("PUT", where, params=_params(refresh=refresh), body=document)

    async def update(
        self,
        *,
        index: str,
        id: str,
        doc: Mapping[str, object],
        refresh: Any = None,
        retry_on_conflict: int | None = None,
        if_seq_no: int | None = None,
        if_primary_term: int | None = None,
    ) -> Any:
        params = _params(
            refresh=refresh,
            retry_on_conflict=retry_on_conflict,
            if_seq_no=if_seq_no,
            if_primary_term=if_primary_term,
        )
        where = f"/{quote(index, safe='')}/_update/{quote(id, safe='')}"
        return await self.request("POST", where, params=params, body={"doc": doc})

    async def search(self, *, index: str, scroll: str | None = None, **body: Any) -> Any:
        if "source" in body:
            body["_source"] = body.pop("source")
        where = f"/{quote(index, safe='')}/_search"
        answer = await self.request("POST", where, params=_params(scroll=scroll), body=body)
        return self._shaped(answer, "hits", "POST", where)

    async def scroll(self, *, scroll_id: str, scroll: str) -> Any:
        body = {"scroll_id": scroll_id, "scroll": scroll}
        answer = await self.request("POST", "/_search/scroll", body=body)
        return self._shaped(answer, "hits", "POST", "/_search/scroll")

    async def clear_scroll(self, *, scroll_id: str) -> Any:
        return await self.request("DELETE", "/_search/scroll", body={"scroll_id": scroll_id})

    async def count(self, *, index: str, query: dict[str, Any] | None = None) -> Any:
        body = {"query": query} if query else None
        where = f"/{quote(index, safe='')}/_count"
        return self._shaped(await self.request("POST", where, body=body), "count", "POST", where)

    def _shaped(self, answer: Any, key: str, method: str, path: str) -> Any:
        """An answer without the part every caller reads is the server's fault, and is
        said so (a bare KeyError reached the user as ``connectors: 'hits'``)."""
        if key not in answer:
            raise ApiError(
                200,
                f"the answer has no {key!r}: {orjson.dumps(answer)[:200].decode()}",
                f"Elasticsearch {method} {path} at {self.where}",
            )
        return answer
