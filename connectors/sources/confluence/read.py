"""What the Confluence source reads in one sync: spaces and who may read them, groups and
their members, pages (all of the configured spaces, or those a CQL rule selects), each
page's comments, attachments and read restrictions, with the restrictions of ancestors
for inheritance. Cached for the sync: one request per thing."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from connectors.config import Config
from connectors.extraction import ExtractionClient
from connectors.source import SourceError
from connectors.sources.confluence.acl import Restriction, page_access, space_principals
from connectors.sources.confluence.client import ConfluenceClient, Gone

V2 = "/wiki/api/v2"
V1 = "/wiki/rest/api"


class Reader:
    def __init__(self, client: ConfluenceClient, config: Config) -> None:
        self.client, self.config = client, config
        self.limit = str(config["page_size"])
        self._spaces: dict[str, dict[str, Any]] = {}  # id -> space
        self._readers: dict[str, frozenset[str]] = {}  # space id -> principals
        self._members: dict[str, frozenset[str]] = {}  # group id -> account ids
        self._users: dict[str, dict[str, Any]] = {}  # account id -> user
        self._parents: dict[str, str | None] = {}
        self._restrictions: dict[str, Restriction | None] = {}
        service = config["extraction_url"]
        self._extraction = ExtractionClient(service) if service else None  # one per sync

    async def spaces(self) -> dict[str, dict[str, Any]]:
        """The configured spaces by id; a key that does not exist fails, named."""
        if not self._spaces:
            every = [s async for s in self.client.paged(f"{V2}/spaces", {"limit": self.limit})]
            wanted = self.config["spaces"]
            if wanted != ["*"]:
                missing = sorted(set(wanted) - {s["key"] for s in every})
                if missing:
                    raise SourceError(f"spaces not found at {self.client.base_url}: {missing}")
                every = [s for s in every if s["key"] in wanted]
            self._spaces = {s["id"]: s for s in every}
        return self._spaces

    async def prepare(self) -> None:
        await self.spaces()
        if not self.config["use_dls"]:
            return
        for space_id in self._spaces:
            grants = self.client.paged(f"{V2}/spaces/{space_id}/permissions", {"limit": self.limit})
            self._readers[space_id] = space_principals(
                [g["principal"] async for g in grants if g["operation"]["key"] == "read"]
            )
        async for group in self.client.paged(f"{V1}/group", {"limit": self.limit}):
            members = self.client.paged(f"{V1}/group/{group['id']}/membersByGroupId",
                                        {"limit": self.limit})  # fmt: skip
            self._members[group["id"]] = frozenset([m["accountId"] async for m in members])
        users = self.client.paged(f"{V1}/search/user", {"cql": "type=user", "limit": self.limit})
        self._users = {u["user"]["accountId"]: u["user"] async for u in users}

    def users(self) -> list[tuple[dict[str, Any], list[str]]]:
        """Every user (after ``prepare``), with the ids of the groups they belong to."""
        return [
            (user, sorted(g for g, members in self._members.items() if account in members))
            for account, user in sorted(self._users.items())
        ]

    def space_key(self, space_id: str) -> str:
        return str(self._spaces[space_id]["key"]) if space_id in self._spaces else space_id

    def web_url(self, page: dict[str, Any]) -> str:
        """Where people open the page: the site's canonical address, whatever route the
        sync took to it."""
        base = self.client.public_base or f"{self.client.base_url}/wiki"
        return f"{base}{page.get('_links', {}).get('webui', '')}"

    async def pages(self, with_bodies: bool) -> AsyncIterator[dict[str, Any]]:
        params = {"limit": self.limit} | ({"body-format": "storage"} if with_bodies else {})
        if self.config["cql"]:
            search = {"cql": self.config["cql"], "limit": self.limit}
            async for hit in self.client.paged(f"{V1}/content/search", search):
                if hit.get("type") == "page":
                    page = await self.client.get(f"{V2}/pages/{hit['id']}", params)
                    if page["spaceId"] in self._spaces:
                        yield page
            return
        params["space-id"] = ",".join(self._spaces)
        async for page in self.client.paged(f"{V2}/pages", params):
            yield page

    def remember_parent(self, page: dict[str, Any]) -> None:
        self._parents[page["id"]] = page.get("parentId")

    async def _restriction(self, page_id: str) -> Restriction | None:
        if page_id not in self._restrictions:
            body = await self.client.get(f"{V1}/content/{page_id}/restriction/byOperation/read")
            found = body.get("restrictions", {})
            users = frozenset(u["accountId"] for u in found.get("user", {}).get("results", []))
            groups = frozenset(g["id"] for g in found.get("group", {}).get("results", []))
            self._restrictions[page_id] = Restriction(users, groups) if users or groups else None
        return self._restrictions[page_id]

    async def _parent(self, page_id: str) -> str | None:
        if page_id not in self._parents:
            page = await self.client.get(f"{V2}/pages/{page_id}")
            self._parents[page_id] = page.get("parentId")
        return self._parents[page_id]

    async def exists(self, page_id: str) -> bool:
        try:
            await self.client.get(f"{V2}/pages/{page_id}")
        except Gone:
            return False
        return True

    async def access(self, page: dict[str, Any]) -> list[str]:
        """The page's readers: its space's, narrowed by its and its ancestors' restrictions."""
        chain: list[Restriction] = []
        current: str | None = page["id"]
        seen: set[str] = set()
        child: str | None = None
        while current and current not in seen:
            seen.add(current)
            try:
                restriction = await self._restriction(current)
                parent = await self._parent(current)
            except Gone:
                if child is None:
                    raise  # the page itself
                # An ancestor deleted during the read: its child's parent is asked again
                # (Confluence moves children up); an orphan's chain ends there.
                self._parents.pop(child, None)
                current = await self._parent(child)
                continue
            if restriction is not None:
                chain.append(restriction)
            child, current = current, parent
        space = self._readers.get(page["spaceId"], frozenset())
        return page_access(space, chain, self._members, frozenset(self._users))

    def comments(self, page_id: str, with_bodies: bool) -> AsyncIterator[dict[str, Any]]:
        params = {"limit": self.limit} | ({"body-format": "storage"} if with_bodies else {})
        return self.client.paged(f"{V2}/pages/{page_id}/footer-comments", params)

    def attachments(self, page_id: str) -> AsyncIterator[dict[str, Any]]:
        return self.client.paged(f"{V2}/pages/{page_id}/attachments", {"limit": self.limit})

    async def attachment_text(self, item: dict[str, Any]) -> dict[str, Any]:
        cap = self.config["max_attachment_bytes"]
        size = int(item.get("fileSize") or 0)
        if size > cap:
            return {"body_skipped": f"{size} bytes, over max_attachment_bytes ({cap})"}
        if self._extraction is None:
            return {}
        data = await self.client.download("/wiki" + item["downloadLink"])
        return await self._extraction.extract(data, f"attachment {item['id']}")

    async def close(self) -> None:
        if self._extraction is not None:
            await self._extraction.close()


async def page_since(reader: Reader, since: str, sent: set[str]) -> AsyncIterator[dict[str, Any]]:
    """Pages whose last version is at or after ``since`` (ISO UTC), but those in ``sent``
    (``id@version``, sent at exactly that time), through CQL: its dates have minutes and
    the account's time zone, so the query reaches a day back and the versions' own times
    decide. A CQL rule is applied as its own query, never spliced into this one."""
    spaces = await reader.spaces()
    cql = "type = page"
    if since:
        moment = dt.datetime.fromisoformat(since.replace("Z", "+00:00")) - dt.timedelta(days=1)
        cql += f' and lastModified >= "{moment.strftime("%Y-%m-%d %H:%M")}"'
    allowed = None
    if reader.config["cql"]:
        search = {"cql": reader.config["cql"], "limit": reader.limit}
        allowed = {hit["id"] async for hit in reader.client.paged(f"{V1}/content/search", search)}
    params = {"limit": reader.limit, "body-format": "storage"}
    search = {"cql": cql, "limit": reader.limit}
    async for hit in reader.client.paged(f"{V1}/content/search", search):
        version = hit.get("version", {})
        when, mark = version.get("when", ""), f"{hit['id']}@{version.get('number')}"
        if (
            (since and when < since)
            or mark in sent
            or (allowed is not None and hit["id"] not in allowed)
        ):
            continue
        try:
            page = await reader.client.get(f"{V2}/pages/{hit['id']}", params)
        except Gone:
            continue  # deleted since the search listed it
        if page["spaceId"] in spaces:
            yield page
