"""Broken variants of the Confluence connector. Registered through ``CONFLUENCE_VARIANTS``
in broken_variants.py; each must fail ``scenarios/confluence`` with the problem named."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from connectors.sources import confluence_client


def _last_cursor_dropped() -> None:
    """The final page of every paged list never read, as when a loop stops on the page
    whose answer has no next link instead of after reading it."""

    async def paged(
        self: Any, path: str, params: dict[str, str] | None = None
    ) -> AsyncIterator[Any]:
        url: str | None = self.url(path)
        first = True
        while url:
            body = await self.get(url, params)
            params = None
            url = self._next(body)
            if url is None and not first:
                return
            first = False
            for item in body.get("results", []):
                yield item

    confluence_client.ConfluenceClient.paged = paged  # type: ignore[method-assign]


def _retry_after_ignored() -> None:
    """A 429 retried like a 5xx, after a short backoff, whatever Retry-After says."""
    confluence_client._retry_after = lambda response: 0.05  # type: ignore[assignment]


CONFLUENCE_VARIANTS = {
    "confluence-last-cursor-dropped": _last_cursor_dropped,
    "confluence-retry-after-ignored": _retry_after_ignored,
}
