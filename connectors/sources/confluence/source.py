"""Confluence Cloud source: pages, their footer comments and attachments, with who may
read each (docs/confluence.md).

* ``_id``: ``page-<id>``, ``comment-<id>``, ``attachment-<id>``. Fields: type, title,
  space, body (text of the storage format; an attachment's from the extraction service),
  url, version, last_modified, and for comments and attachments the page's id.
* With ``use_dls``, ``_allow_access_control`` holds who may read: the space's readers,
  narrowed by the read restrictions of the page and every ancestor (acl.py).
  The version is the Confluence version with a digest of those values, so a changed
  restriction or membership rewrites exactly the documents whose readers changed.
* Advanced rule: ``cql`` selects the pages (and so their comments and attachments).
* Incremental: pages modified since the cursor, by CQL on ``lastModified`` (minute
  precision, read in the account's time zone: the query reaches a day back and the
  versions decide). Deletions and permission changes need a full sync.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any

from connectors import defaults
from connectors.access_control import AccessControlSource, allow_list, identity_document
from connectors.config import (
    MAX_CONNECT_TIMEOUT,
    MAX_EXTRACTED_BYTES,
    ConfigField,
    ConfigSchema,
)
from connectors.documents import SourceDocument
from connectors.source import Operation
from connectors.sources.confluence.acl import acl_digest, identity_access
from connectors.sources.confluence.client import ConfluenceClient, Gone
from connectors.sources.confluence.read import Reader, page_since

V2 = "/wiki/api/v2"


class ConfluenceDataSource(AccessControlSource):
    name = "confluence"
    supports_incremental = True
    supports_versions = True

    def __init__(self, configuration: dict[str, Any]) -> None:
        super().__init__(configuration)
        self._cursor: dict[str, Any] = {}

    @classmethod
    def config_schema(cls) -> ConfigSchema:
        return ConfigSchema(
            (
                ConfigField("base_url", label="Site URL", format="url",
                            description="https://<your-site>.atlassian.net"),
                ConfigField("username", label="Account email"),
                ConfigField("api_token", label="API token", sensitive=True),
                ConfigField("spaces", "list", label="Space keys ('*' for all)", default=["*"],
                            min_items=1),
                ConfigField("cql", label="Advanced rule: CQL selecting pages", required=False),
                ConfigField("use_dls", "bool", label="Document-level security", default=False),
                ConfigField("include_comments", "bool", label="Footer comments", default=True),
                ConfigField("include_attachments", "bool", label="Attachments", default=True),
                ConfigField("extraction_url", label="Extraction service URL", required=False,
                            format="url"),
                ConfigField("max_attachment_bytes", "int", label="Largest attachment extracted",
                            default=10 * 1024 * 1024, min_value=0,
                            max_value=MAX_EXTRACTED_BYTES),
                ConfigField("page_size", "int", label="Items per request", default=100,
                            min_value=1, max_value=250),
                ConfigField("connect_timeout", "float", label="Connect timeout (s)",
                            default=10.0, min_value=0.1, max_value=MAX_CONNECT_TIMEOUT),
            )
        )  # fmt: skip

    def _client(self) -> ConfluenceClient:
        c = self.config
        return ConfluenceClient(c["base_url"], c["username"], c["api_token"], c["connect_timeout"])

    async def ping(self) -> None:
        client = self._client()
        try:
            await client.get(f"{V2}/spaces", {"limit": "1"})
        finally:
            await client.close()

    async def validate_config(self) -> None:
        client = self._client()
        try:
            await Reader(client, self.config).spaces()
        finally:
            await client.close()

    # -- document-level security -------------------------------------------------------

    def dls_enabled(self) -> bool:
        return bool(self.config["use_dls"])

    async def get_access_control(self) -> AsyncIterator[SourceDocument]:
        """One identity per user: the values of ``identity_access`` match exactly the
        ``_allow_access_control`` values the documents carry for them."""
        client = self._client()
        try:
            reader = Reader(client, self.config)
            await reader.prepare()
            for user, groups in reader.users():
                identity = {"account_id": user["accountId"], "email": user.get("email"),
                            "display_name": user.get("displayName")}  # fmt: skip
                access = identity_access(user["accountId"], groups)
                yield identity_document(user["accountId"], identity, access)
        finally:
            await client.close()

    # -- documents --------------------------------------------------------------------

    async def _stream(
        self,
        with_bodies: bool,
        wanted: set[str] | None = None,
        pages: list[dict[str, Any]] | None = None,
        since: str = "",
    ) -> AsyncIterator[SourceDocument]:
        """Page by page as the listing gives them, never the whole list in memory (an
        ancestor not listed yet is asked for when needed). ``since``: only comments and
        attachments changed at or after it (a page's own change does not change them)."""
        client = self._client()
        reader = Reader(client, self.config)
        try:
            await reader.prepare()
            async for page in _each(pages) if pages is not None else reader.pages(with_bodies):
                reader.remember_parent(page)
                try:
                    async for doc in self._page_documents(reader, page, with_bodies, wanted):
                        changed = (doc.fields or {}).get("last_modified", "")
                        if doc.id.startswith("page-") or changed >= since:
                            yield doc
                except Gone:
                    if await reader.exists(page["id"]):
                        raise  # not the page: a path the site does not serve
                    continue  # deleted since it was listed; the next sync removes what was sent
        finally:
            await reader.close()
            await client.close()

    async def _page_documents(
        self, reader: Reader, page: dict[str, Any], with_bodies: bool, wanted: set[str] | None
    ) -> AsyncIterator[SourceDocument]:
        acl = allow_list(await reader.access(page)) if self.config["use_dls"] else None
        digest = acl_digest(acl) if acl is not None else "-"
        space = reader.space_key(page["spaceId"])
        base = {"space": space, "page_id": page["id"]}
        if acl is not None:
            base["_allow_access_control"] = acl
        page_id = f"page-{page['id']}"
        if wanted is None or page_id in wanted:
            fields = base | {
                "type": "page", "title": page["title"], "url": reader.web_url(page),
                "version": page["version"]["number"], "created": page.get("createdAt"),
                "last_modified": page["version"]["createdAt"], "author_id": page.get("authorId"),
                "parent_id": page.get("parentId"),
            }  # fmt: skip
            if with_bodies:
                fields["body"] = storage_text(page.get("body", {}).get("storage", {}).get("value"))
            yield SourceDocument(page_id, fields, f"{page['version']['number']}|{digest}")
        if self.config["include_comments"]:
            async for comment in reader.comments(page["id"], with_bodies):
                doc_id = f"comment-{comment['id']}"
                if wanted is not None and doc_id not in wanted:
                    continue
                fields = base | {"type": "comment", "title": comment.get("title"),
                                 "version": comment["version"]["number"],
                                 "last_modified": comment["version"]["createdAt"]}  # fmt: skip
                if with_bodies:
                    fields["body"] = storage_text(comment["body"]["storage"]["value"])
                yield SourceDocument(doc_id, fields, f"{comment['version']['number']}|{digest}")
        if self.config["include_attachments"]:
            async for item in reader.attachments(page["id"]):
                doc_id = f"attachment-{item['id']}"
                if wanted is not None and doc_id not in wanted:
                    continue
                fields = base | {"type": "attachment", "title": item["title"],
                                 "media_type": item.get("mediaType"), "size": item.get("fileSize"),
                                 "version": item["version"]["number"],
                                 "last_modified": item["version"]["createdAt"]}  # fmt: skip
                if with_bodies:
                    fields |= await reader.attachment_text(item)
                yield SourceDocument(doc_id, fields, f"{item['version']['number']}|{digest}")

    def get_docs(self) -> AsyncIterator[SourceDocument]:
        return self._stream(with_bodies=True)

    async def get_versions(self) -> AsyncIterator[tuple[str, str]]:
        async for doc in self._stream(with_bodies=False):
            yield doc.id, str(doc.version)

    def get_docs_by_ids(self, ids: list[str]) -> AsyncIterator[SourceDocument]:
        return self._stream(with_bodies=True, wanted=set(ids))

    async def get_docs_incrementally(self, cursor: Any) -> AsyncIterator[Operation]:
        """The cursor: the latest version time seen, and the pages (id@version) sent at it."""
        since = (cursor or {}).get("modified") or ""
        sent = set((cursor or {}).get("ids") or [])
        client = self._client()
        try:
            changed = [p async for p in page_since(Reader(client, self.config), since, sent)]
        finally:
            await client.close()
        latest, ids = since, set(sent)
        for page in changed:
            when, mark = page["version"]["createdAt"], f"{page['id']}@{page['version']['number']}"
            if when > latest:
                latest, ids = when, set()
            if when == latest:
                ids.add(mark)
        async for doc in self._stream(with_bodies=True, pages=changed, since=since):
            yield Operation("index", doc.id, doc)
        if latest:
            self._cursor = {"modified": latest, "ids": sorted(ids)[-defaults.MAX_BOUNDARY_IDS :]}

    def next_cursor(self) -> Any:
        return dict(self._cursor)


async def _each(items: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for item in items:
        yield item


class _Text(HTMLParser):
    BLOCKS = {"p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def storage_text(value: str | None) -> str:
    """The words of Confluence's storage format (XHTML), blocks separated by spaces."""
    if not value:
        return ""
    parser = _Text()
    parser.feed(value)
    return re.sub(r"\s+", " ", "".join(parser.parts)).strip()
