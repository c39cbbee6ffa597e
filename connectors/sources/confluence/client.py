"""The Confluence Cloud calls the connector makes, over aiohttp with basic auth (email and
API token): GET with the waits the service asks for (429 ``Retry-After``), bounded retries
on 5xx and dropped connections, and pagination that follows ``_links.next`` as given (v2
links from the site's root, v1 links from its /wiki), by the configured address: the
canonical ``_links.base`` names the site for people, not the route to it."""

from __future__ import annotations

import asyncio
import base64
import random
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from connectors.source import SourceError

RETRYABLE = {500, 502, 503, 504}
MAX_WAIT_S = 300.0  # a Retry-After beyond this fails the sync instead of stalling it


class Gone(SourceError):
    """404: the thing was deleted since it was listed (or never existed)."""


class ConfluenceClient:
    def __init__(
        self, base_url: str, username: str, token: str, timeout: float, retries: int = 5
    ) -> None:
        self.base_url = base_url.rstrip("/")  # https://<site>.atlassian.net: the site's root
        self.retries = retries
        self.waited_s = 0.0  # time spent in waits the service asked for (Retry-After)
        self.public_base = ""  # the site's canonical /wiki address, from ``_links.base``
        credentials = base64.b64encode(f"{username}:{token}".encode()).decode()
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=120),
            headers={"Accept": "application/json", "Authorization": f"Basic {credentials}"},
        )

    async def close(self) -> None:
        await self._session.close()

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base_url + path

    async def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        """JSON of one GET; a refusal names the URL and the service's message."""
        body = await self._get(self.url(path), params, json_body=True)
        return body

    async def download(self, path: str) -> bytes:
        data: bytes = await self._get(self.url(path), None, json_body=False)
        return data

    async def _get(self, url: str, params: dict[str, str] | None, json_body: bool) -> Any:
        shown = url.split("?", 1)[0]
        for attempt in range(self.retries + 1):
            try:
                async with self._session.get(url, params=params) as response:
                    if response.status == 200:
                        return await (response.json() if json_body else response.read())
                    text = (await response.text(errors="replace"))[:300]
                    wait = _retry_after(response)
                    if response.status == 429 and attempt < self.retries:
                        if wait > MAX_WAIT_S:
                            raise SourceError(f"Confluence at {shown} asks to wait {wait:.0f}s "
                                              f"(Retry-After), over {MAX_WAIT_S:.0f}s")  # fmt: skip
                        self.waited_s += wait
                        await asyncio.sleep(wait)
                        continue
                    if response.status in RETRYABLE and attempt < self.retries:
                        await asyncio.sleep(_backoff(attempt))
                        continue
                    error = Gone if response.status == 404 else SourceError
                    raise error(_refusal(response.status, shown, text))
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                if attempt >= self.retries:
                    raise SourceError(
                        f"Confluence at {shown} cannot be reached: {exc or type(exc).__name__}"
                    ) from None
                await asyncio.sleep(_backoff(attempt))
        raise SourceError(f"Confluence at {shown}: gave up after {self.retries + 1} attempts")

    async def paged(self, path: str, params: dict[str, str] | None = None) -> AsyncIterator[Any]:
        """Every result of a paged list, following each answer's next link."""
        url: str | None = self.url(path)
        while url:
            body = await self.get(url, params)
            params = None  # the next link carries the query
            self.public_base = (body.get("_links") or {}).get("base", self.public_base)
            for item in body.get("results", []):
                yield item
            url = self._next(body)

    def _next(self, body: dict[str, Any]) -> str | None:
        """The next page's URL, reached the way this client reaches the site (the
        configured base, perhaps through a proxy), never by ``_links.base``'s host."""
        link: str | None = (body.get("_links") or {}).get("next")
        if not link:
            return None
        if link.startswith("/wiki/"):  # v2: from the site's root
            return self.base_url + link
        return self.base_url + "/wiki" + link  # v1: from the site's /wiki


def _retry_after(response: aiohttp.ClientResponse) -> float:
    try:
        wait: float = max(0.0, float(response.headers.get("Retry-After", "1")))
        return wait
    except ValueError:
        return 1.0


def _backoff(attempt: int) -> float:
    return float(min(0.2 * 2**attempt, 10.0) * (0.5 + random.random()))


def _refusal(status: int, where: str, text: str) -> str:
    if status == 401:
        return (f"Confluence at {where} refused the credentials (401): check username (the "
                f"account's email) and api_token, which may have expired: {text}")  # fmt: skip
    if status == 403:
        return f"Confluence at {where}: the account may not read this (403): {text}"
    return f"Confluence at {where} answered {status}: {text}"
