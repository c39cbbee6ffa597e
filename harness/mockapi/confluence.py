"""A faithful subset of Confluence Cloud's REST API (v2, and v1 where v2 has no
equivalent: restrictions, groups, users, CQL search), over the corpus of
confluence_corpus.py. Where it differs from the real API: docs/confluence-mock.md."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from harness.mockapi.api import MockApi
from harness.mockapi.confluence_changes import apply_change, churn_once
from harness.mockapi.confluence_corpus import Attachment, Comment, Page, Space, build
from harness.mockapi.cql import CqlError, parse_cql

V2 = "/wiki/api/v2"
V1 = "/wiki/rest/api"
MAX_LIMIT = 250


class ConfluenceApi(MockApi):
    name = "confluence"

    def __init__(self, seed: int, size: int, base_path: str) -> None:
        super().__init__(seed, size, base_path)
        self.corpus = build(seed, size)
        self.churned = 0

    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", f"{V2}/spaces", self.spaces),
            ("GET", f"{V2}/spaces/{{id}}/permissions", self.space_permissions),
            ("GET", f"{V2}/pages", self.pages),
            ("GET", f"{V2}/pages/{{id}}", self.page),
            ("GET", f"{V2}/pages/{{id}}/footer-comments", self.comments),
            ("GET", f"{V2}/pages/{{id}}/attachments", self.attachments),
            ("GET", f"{V1}/content/{{id}}/restriction/byOperation/read", self.restrictions),
            ("GET", f"{V1}/group", self.groups),
            ("GET", f"{V1}/group/{{id}}/membersByGroupId", self.members),
            ("GET", f"{V1}/search/user", self.users),
            ("GET", f"{V1}/content/search", self.search),
            ("GET", f"{V1}/content", self.content),
            ("GET", "/wiki/download/attachments/{page}/{name}", self.download),
        ]

    def change(self, operation: dict[str, Any]) -> dict[str, Any]:
        return apply_change(self.corpus, operation)

    def churn(self) -> None:
        churn_once(self.corpus, self.churned)
        self.churned += 1

    def model(self) -> dict[str, Any]:
        return self.corpus.to_json()

    # -- paging -----------------------------------------------------------------------

    def _cursor_page(
        self, request: web.Request, items: list[Any], key: Any
    ) -> tuple[list[Any], str | None]:
        """Cursor paging: an opaque cursor naming the last key served, so items added or
        removed elsewhere never shift what comes next. The link is the path within the
        site, with the cursor."""
        limit = _limit(request, 25)
        after = _decode(request.query.get("cursor"))
        ordered = sorted(items, key=key)
        start = [i for i in ordered if after is None or key(i) > after]
        chunk = start[:limit]
        if len(start) <= limit:
            return chunk, None
        query = {k: v for k, v in request.query.items() if k != "cursor"}
        query["cursor"] = base64.urlsafe_b64encode(repr(key(chunk[-1])).encode()).decode()
        return chunk, f"{request.path.removeprefix(self.base_path)}?{urlencode(query)}"

    def _base(self, request: web.Request) -> str:
        """The site's canonical address, as Confluence gives it whatever route a request
        took (https://<site>.atlassian.net/wiki): not where to send the next request."""
        return f"https://{self.base_path.strip('/')}.atlassian.example/wiki"

    def _answer(self, request: web.Request, body: dict[str, Any], link: str | None) -> web.Response:
        """v2 gives ``next`` from the site's root (/wiki/api/v2/...), v1 from the site's
        /wiki (/rest/api/...), as the real service does: a client must join each correctly."""
        body["_links"] = {"base": self._base(request)}
        if link:
            body["_links"]["next"] = link if "/api/v2/" in link else link.removeprefix("/wiki")
            self.after_page()
        return web.json_response(body)

    def _v2(self, request: web.Request, results: list[Any], link: str | None) -> web.Response:
        return self._answer(request, {"results": results}, link)

    def _v1(self, request: web.Request, items: list[Any]) -> web.Response:
        """v1 paging: start and limit (an offset, which moves if items are removed)."""
        start, limit = int(request.query.get("start", 0)), _limit(request, 25)
        chunk = items[start : start + limit]
        link = None
        if start + limit < len(items):
            query = dict(request.query) | {"start": str(start + limit)}
            link = f"{request.path.removeprefix(self.base_path)}?{urlencode(query)}"
        body = {"results": chunk, "start": start, "limit": limit, "size": len(chunk)}
        return self._answer(request, body, link)

    # -- v2 ---------------------------------------------------------------------------

    async def spaces(self, request: web.Request) -> web.Response:
        chunk, link = self._cursor_page(request, self.corpus.spaces, lambda s: int(s.id))
        return self._v2(request, [_space(s) for s in chunk], link)

    async def space_permissions(self, request: web.Request) -> web.Response:
        space = self._space(request["params"]["id"])
        grants = [{"id": f"{space.id}-{n}", "principal": dict(p),
                   "operation": {"key": "read", "targetType": "space"}}
                  for n, p in enumerate(space.readers)]  # fmt: skip
        chunk, link = self._cursor_page(request, grants, lambda g: g["id"])
        return self._v2(request, chunk, link)

    async def pages(self, request: web.Request) -> web.Response:
        wanted = set(filter(None, request.query.get("space-id", "").split(",")))
        pages = [p for p in self.corpus.pages if not wanted or p.space_id in wanted]
        chunk, link = self._cursor_page(request, pages, lambda p: int(p.id))
        fmt = request.query.get("body-format")
        return self._v2(request, [self._page(p, fmt) for p in chunk], link)

    async def page(self, request: web.Request) -> web.Response:
        page = self._find_page(request["params"]["id"])
        return web.json_response(self._page(page, request.query.get("body-format")))

    async def comments(self, request: web.Request) -> web.Response:
        page = self._find_page(request["params"]["id"])
        if page.broken:
            return web.json_response({"statusCode": 500, "message": "internal server error"},
                                     status=500)  # fmt: skip
        chunk, link = self._cursor_page(request, page.comments, lambda c: int(c.id))
        fmt = request.query.get("body-format")
        return self._v2(request, [_comment(c, page, fmt) for c in chunk], link)

    async def attachments(self, request: web.Request) -> web.Response:
        page = self._find_page(request["params"]["id"])
        chunk, link = self._cursor_page(request, page.attachments, lambda a: a.id)
        return self._v2(request, [_attachment(a, page) for a in chunk], link)

    # -- v1 ---------------------------------------------------------------------------

    async def restrictions(self, request: web.Request) -> web.Response:
        page = self._find_page(request["params"]["id"])
        users = [_user(u) for u in self.corpus.users if u.account_id in page.restricted_users]
        groups = [{"type": "group", "name": g.name, "id": g.id}
                  for g in self.corpus.groups if g.id in page.restricted_groups]  # fmt: skip
        return web.json_response({
            "operation": "read",
            "restrictions": {
                "user": {"results": users, "start": 0, "limit": 200, "size": len(users)},
                "group": {"results": groups, "start": 0, "limit": 200, "size": len(groups)},
            },
        })  # fmt: skip

    async def groups(self, request: web.Request) -> web.Response:
        items = [{"type": "group", "name": g.name, "id": g.id} for g in self.corpus.groups]
        return self._v1(request, items)

    async def members(self, request: web.Request) -> web.Response:
        group = self.corpus.group(request["params"]["id"])
        users = {u.account_id: u for u in self.corpus.users}
        return self._v1(request, [_user(users[m]) for m in group.members if m in users])

    async def users(self, request: web.Request) -> web.Response:
        if request.query.get("cql", "").replace(" ", "") != "type=user":
            raise web.HTTPBadRequest(text="this mock answers cql=type=user only")
        return self._v1(request, [{"user": _user(u)} for u in self.corpus.users])

    async def content(self, request: web.Request) -> web.Response:
        """v1 content listing (type=page, optional spaceKey), paged by offset as the real
        one is: a page removed mid-read shifts what the next offset returns."""
        if request.query.get("type", "page") != "page":
            raise web.HTTPBadRequest(text="this mock lists type=page only")
        keys = {s.id: s.key for s in self.corpus.spaces}
        wanted = request.query.get("spaceKey")
        pages = sorted((p for p in self.corpus.pages if not wanted or keys[p.space_id] == wanted),
                       key=lambda p: int(p.id))  # fmt: skip
        items = [{"id": p.id, "type": "page", "status": "current", "title": p.title,
                  "space": {"key": keys[p.space_id]}, "version": {"number": p.version}}
                 for p in pages]  # fmt: skip
        return self._v1(request, items)

    async def search(self, request: web.Request) -> web.Response:
        try:
            matches = parse_cql(request.query.get("cql", ""))
        except CqlError as exc:
            return web.json_response({"statusCode": 400, "message": f"Could not parse cql: {exc}"},
                                     status=400)  # fmt: skip
        spaces = {s.id: s for s in self.corpus.spaces}
        found = [p for p in self.corpus.pages if matches(_cql_fields(p, spaces[p.space_id]))]
        chunk, link = self._cursor_page(request, found, lambda p: int(p.id))
        results = [{"id": p.id, "type": "page", "status": "current", "title": p.title,
                    "space": {"id": p.space_id, "key": spaces[p.space_id].key},
                    "version": {"number": p.version, "when": p.modified_at}}
                   for p in chunk]  # fmt: skip
        return self._v2(request, results, link)

    async def download(self, request: web.Request) -> web.Response:
        page = self._find_page(request["params"]["page"])
        for attachment in page.attachments:
            if attachment.title == request["params"]["name"]:
                return web.Response(body=attachment.data, content_type=attachment.media_type)
        raise web.HTTPNotFound(text="no such attachment")

    # -- lookups ----------------------------------------------------------------------

    def _find_page(self, page_id: str) -> Page:
        try:
            return self.corpus.page(page_id)
        except KeyError:
            raise web.HTTPNotFound(text=f"no page {page_id}") from None

    def _space(self, space_id: str) -> Space:
        for space in self.corpus.spaces:
            if space.id == space_id:
                return space
        raise web.HTTPNotFound(text=f"no space {space_id}")

    def _page(self, page: Page, body_format: str | None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": page.id, "status": "current", "title": page.title, "spaceId": page.space_id,
            "parentId": page.parent_id, "parentType": "page" if page.parent_id else None,
            "authorId": page.author_id, "ownerId": page.author_id, "createdAt": page.created_at,
            "version": {"number": page.version, "createdAt": page.modified_at,
                        "message": "", "minorEdit": False, "authorId": page.author_id},
            "_links": {"webui": f"/spaces/{page.space_id}/pages/{page.id}",
                       "tinyui": f"/x/{page.id}"},
        }  # fmt: skip
        data["body"] = (
            {"storage": {"representation": "storage", "value": page.body}}
            if body_format == "storage"
            else {}
        )
        return data


def _limit(request: web.Request, default: int) -> int:
    try:
        return max(1, min(int(request.query.get("limit", default)), MAX_LIMIT))
    except ValueError:
        raise web.HTTPBadRequest(text="limit must be an integer") from None


def _decode(cursor: str | None) -> Any:
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        return int(text) if text.isdigit() else text.strip("'")
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text="invalid cursor") from None


def _space(space: Space) -> dict[str, Any]:
    return {"id": space.id, "key": space.key, "name": space.name, "type": "global",
            "status": "current", "_links": {"webui": f"/spaces/{space.key}"}}  # fmt: skip


def _user(user: Any) -> dict[str, Any]:
    return {"type": "known", "accountId": user.account_id, "accountType": "atlassian",
            "displayName": user.display_name, "email": user.email}  # fmt: skip


def _comment(comment: Comment, page: Page, body_format: str | None) -> dict[str, Any]:
    data = {"id": comment.id, "status": "current", "title": f"Re: {page.title}", "pageId": page.id,
            "version": {"number": comment.version, "createdAt": comment.created_at}}  # fmt: skip
    if body_format == "storage":
        data["body"] = {"storage": {"representation": "storage", "value": comment.body}}
    return data


def _attachment(attachment: Attachment, page: Page) -> dict[str, Any]:
    link = f"/download/attachments/{page.id}/{attachment.title}?version={attachment.version}&api=v2"
    return {"id": attachment.id, "status": "current", "title": attachment.title,
            "createdAt": attachment.created_at, "pageId": page.id,
            "mediaType": attachment.media_type, "fileSize": len(attachment.data),
            "version": {"number": attachment.version, "createdAt": attachment.created_at},
            "downloadLink": link, "_links": {"download": link}}  # fmt: skip


def _cql_fields(page: Page, space: Space) -> dict[str, Any]:
    modified = dt.datetime.strptime(page.modified_at, "%Y-%m-%dT%H:%M:%S.%fZ")
    return {"type": "page", "space": space.key, "title": page.title, "id": page.id,
            "lastmodified": modified.replace(tzinfo=dt.UTC),
            "created": page.created_at}  # fmt: skip
