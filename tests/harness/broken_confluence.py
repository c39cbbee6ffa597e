"""Broken variants of the Confluence connector. Registered through ``CONFLUENCE_VARIANTS``
in broken_variants.py; each must fail ``scenarios/confluence`` with the problem named."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from connectors.sources.confluence import acl as confluence_acl
from connectors.sources.confluence import client as confluence_client
from connectors.sources.confluence import read as confluence_read
from connectors.sources.confluence.source import ConfluenceDataSource


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


def _restrictions_ignored() -> None:
    """Space permissions only: a restricted page is given to everyone who reads its space
    (a leak)."""

    async def no_restriction(self: Any, page_id: str) -> None:
        return None

    confluence_read.Reader._restriction = no_restriction  # type: ignore[method-assign]


def _restricting_groups_not_expanded() -> None:
    """A restriction to a group read as if it named no one: only its named users keep the
    page (its group's members miss it)."""
    original = confluence_acl.page_access

    def page_access(space: Any, chain: Any, members: Any, all_users: Any) -> list[str]:
        bare = [confluence_acl.Restriction(level.users, frozenset()) for level in chain]
        return original(space, bare, members, all_users)

    confluence_read.page_access = page_access  # type: ignore[assignment]


def _identities_in_the_content_index() -> None:
    """The users' identities sent with the documents (elastic/elasticsearch#109097)."""
    original = ConfluenceDataSource.get_docs

    async def get_docs(self: Any) -> AsyncIterator[Any]:
        async for doc in original(self):
            yield doc
        if self.dls_enabled():
            async for identity in self.get_access_control():
                yield identity

    ConfluenceDataSource.get_docs = get_docs  # type: ignore[method-assign]


def _vanished_page_fails_the_sync() -> None:
    """A page deleted between the listing and the read of its comments taken for an error
    (the 404 is not checked against the page itself)."""

    async def exists(self: Any, page_id: str) -> bool:
        return True

    confluence_read.Reader.exists = exists  # type: ignore[method-assign]


def _pages_listed_by_offset() -> None:
    """Pages listed through v1 ``/content`` with start/limit, an offset that shifts when
    pages already served are deleted mid-read."""

    async def pages(self: Any, with_bodies: bool) -> AsyncIterator[Any]:
        params = {"limit": self.limit} | ({"body-format": "storage"} if with_bodies else {})
        listing = {"type": "page", "limit": self.limit}
        async for hit in self.client.paged("/wiki/rest/api/content", listing):
            try:
                page = await self.client.get(f"/wiki/api/v2/pages/{hit['id']}", params)
            except confluence_client.Gone:
                continue
            if page["spaceId"] in self._spaces:
                yield page

    confluence_read.Reader.pages = pages  # type: ignore[method-assign]


def _cursor_strictly_after() -> None:
    """Pages read strictly after the cursor's time: pages written later at exactly that
    time (the same instant, or the same CQL minute) are never read."""
    from connectors.sources.confluence import source as confluence_source

    original = confluence_source.page_since

    def strictly_after(reader: Any, since: str, sent: set[str]) -> AsyncIterator[Any]:
        if since:
            moment = dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
            later = moment + dt.timedelta(milliseconds=1)
            since = later.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return original(reader, since, sent)

    confluence_source.page_since = strictly_after  # type: ignore[assignment]


CONFLUENCE_VARIANTS = {
    "confluence-cursor-strictly-after": _cursor_strictly_after,
    "confluence-pages-listed-by-offset": _pages_listed_by_offset,
    "confluence-vanished-page-fails-the-sync": _vanished_page_fails_the_sync,
    "confluence-restrictions-ignored": _restrictions_ignored,
    "confluence-restricting-groups-not-expanded": _restricting_groups_not_expanded,
    "confluence-identities-in-the-content-index": _identities_in_the_content_index,
    "confluence-last-cursor-dropped": _last_cursor_dropped,
    "confluence-retry-after-ignored": _retry_after_ignored,
}
