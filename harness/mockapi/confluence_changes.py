"""Changes to the Confluence mock's corpus: what a scenario asks for through the admin
endpoint, and the churn that lands between two page requests. As in Confluence, a new
version moves ``lastModified``; a restriction or a group membership changes neither."""

from __future__ import annotations

import datetime as dt
from typing import Any

from harness.mockapi.confluence_corpus import Comment, Corpus, Page, stamp


def _now() -> str:
    return stamp(dt.datetime.now(dt.UTC))


def _new_page(
    corpus: Corpus, space_id: str, title: str, body: str | None = None,
    parent_id: str | None = None, comments: int = 0, at: str | None = None,
) -> Page:  # fmt: skip
    corpus.next_id += 1
    now = at or _now()
    page = Page(str(corpus.next_id), space_id, title,
                f"<p>{title}, written later.</p>" if body is None else body, 1,
                now, now, corpus.users[0].account_id, parent_id)  # fmt: skip
    for k in range(comments):
        corpus.next_id += 1
        page.comments.append(
            Comment(str(corpus.next_id), f"<p>Comment {k} on {title}.</p>", 1, now)
        )
    corpus.pages.append(page)
    return page


def apply_change(corpus: Corpus, change: dict[str, Any]) -> dict[str, Any]:
    op = change.get("op")
    if op == "update_page":
        page = corpus.page(str(change["id"]))
        page.version += 1
        page.modified_at = _now()
        page.body += f"<p>{change.get('text', 'Edited')} (version {page.version}).</p>"
        return {"id": page.id, "version": page.version, "modified_at": page.modified_at}
    if op == "add_page":  # modified_at: a time of the scenario's choosing (a cursor's own)
        page = _new_page(corpus, str(change["space_id"]), str(change.get("title", "New page")),
                         change.get("body"), change.get("parent_id"),
                         int(change.get("comments", 0)), change.get("modified_at"))  # fmt: skip
        return {"id": page.id, "modified_at": page.modified_at}
    if op == "touch_page":  # a new version with the same content
        page = corpus.page(str(change["id"]))
        page.version += 1
        page.modified_at = _now()
        return {"id": page.id, "version": page.version}
    if op in ("break_page", "mend_page"):  # its comments answer 500 until mended
        page = corpus.page(str(change["id"]))
        page.broken = op == "break_page"
        return {"id": page.id, "broken": page.broken}
    if op == "delete_page":
        page = corpus.page(str(change["id"]))
        corpus.pages.remove(page)
        return {"id": page.id}
    if op == "restrict_page":
        page = corpus.page(str(change["id"]))
        page.restricted_users = list(change.get("users", []))
        page.restricted_groups = list(change.get("groups", []))
        return {"id": page.id}
    if op == "set_group_members":
        group = corpus.group(str(change["group"]))
        group.members = sorted(change["members"])
        return {"group": group.id, "members": group.members}
    if op == "set_space_readers":
        space = next(s for s in corpus.spaces if s.id == str(change["space_id"]))
        space.readers = [dict(r) for r in change["readers"]]
        return {"space": space.id}
    raise ValueError(f"unknown op {op!r}: update_page, add_page, touch_page, delete_page, "
                     "restrict_page, set_group_members, set_space_readers, break_page, "
                     "mend_page")  # fmt: skip


def churn_once(corpus: Corpus, n: int) -> None:
    """Alternately a page added (it did not exist when the read began) and the oldest page
    deleted (served already, if the read is in id order: an offset-paged read would then
    skip a page that exists before and after)."""
    if n % 2 == 0:
        _new_page(corpus, corpus.spaces[-1].id, f"Churn {n}")
    elif corpus.pages:
        corpus.pages.remove(min(corpus.pages, key=lambda p: int(p.id)))
