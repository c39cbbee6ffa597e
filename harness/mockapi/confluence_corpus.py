"""The Confluence mock's data: users, groups, spaces with permissions, pages with versions,
read restrictions, footer comments and attachments, all from a seed. A fixture rebuilds
the same corpus from the same (seed, size) and applies the same changes to know the truth;
who may read what is computed there, not here."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import asdict, dataclass, field
from typing import Any

from faker import Faker

EPOCH = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)
GROUP_NAMES = ("engineering", "sales", "support", "leadership")
ANONYMOUS = "anonymous"  # the role a public space grants reading to


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class User:
    account_id: str
    display_name: str
    email: str


@dataclass
class Group:
    id: str
    name: str
    members: list[str]  # account ids


@dataclass
class Space:
    id: str
    key: str
    name: str
    readers: list[dict[str, str]]  # {"type": "user"|"group"|"role", "id": ...}


@dataclass
class Attachment:
    id: str
    title: str
    media_type: str
    data: bytes = field(repr=False)
    version: int
    created_at: str


@dataclass
class Comment:
    id: str
    body: str
    version: int
    created_at: str


@dataclass
class Page:
    id: str
    space_id: str
    title: str
    body: str  # storage format (XHTML)
    version: int
    created_at: str
    modified_at: str
    author_id: str
    parent_id: str | None
    restricted_users: list[str] = field(default_factory=list)  # read restrictions
    restricted_groups: list[str] = field(default_factory=list)  # group ids
    comments: list[Comment] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    broken: bool = False  # its comments answer 500 (a fault a scenario injects)


@dataclass
class Corpus:
    users: list[User]
    groups: list[Group]
    spaces: list[Space]
    pages: list[Page]
    next_id: int = 900000

    def page(self, page_id: str) -> Page:
        for page in self.pages:
            if page.id == page_id:
                return page
        raise KeyError(f"no page {page_id}")

    def group(self, group_id: str) -> Group:
        for group in self.groups:
            if group.id == group_id:
                return group
        raise KeyError(f"no group {group_id}")

    def to_json(self) -> dict[str, Any]:
        def plain(item: Any) -> Any:
            data = asdict(item)
            for page_or_attachment in [data, *data.get("attachments", [])]:
                if isinstance(page_or_attachment.get("data"), bytes):
                    page_or_attachment["data"] = page_or_attachment["data"].decode()
            return data

        return {
            "users": [asdict(u) for u in self.users],
            "groups": [asdict(g) for g in self.groups],
            "spaces": [asdict(s) for s in self.spaces],
            "pages": [plain(p) for p in self.pages],
        }


def build(seed: int, size: int) -> Corpus:
    """``size`` pages over three spaces: one for a group and a named user, one for two
    groups, one public. Every fifth page is restricted; every third has comments; every
    fourth an attachment."""
    rng = random.Random(seed)
    fake = Faker()
    fake.seed_instance(seed)
    users = [User(f"557058:{seed % 1000:03d}{n:05d}", fake.name(), f"user{n}@example.com")
             for n in range(8)]  # fmt: skip
    ids = [u.account_id for u in users]
    groups = [Group(f"g-{seed % 1000:03d}-{n}", name, sorted(rng.sample(ids, 3)))
              for n, name in enumerate(GROUP_NAMES)]  # fmt: skip
    spaces = [
        Space("10001", "ENG", "Engineering",
              [{"type": "group", "id": groups[0].id}, {"type": "user", "id": ids[7]}]),
        Space("10002", "BIZ", "Business",
              [{"type": "group", "id": groups[1].id}, {"type": "group", "id": groups[2].id}]),
        Space("10003", "PUB", "Handbook", [{"type": "role", "id": ANONYMOUS}]),
    ]  # fmt: skip
    pages = []
    for n in range(size):
        space = spaces[n % 3]
        created = EPOCH + dt.timedelta(minutes=7 * n)
        page = Page(
            id=str(100000 + n),
            space_id=space.id,
            title=f"{fake.catch_phrase()} ({n})",
            # Real pages run to kilobytes: the body, not the metadata, is most of a page.
            body="".join(f"<p>{fake.paragraph(nb_sentences=6)}</p>" for _ in range(4 + n % 8)),
            version=1 + n % 3,
            created_at=stamp(created),
            modified_at=stamp(created + dt.timedelta(days=1 + n % 5)),
            author_id=ids[n % len(ids)],
            parent_id=str(100000 + n - 3) if n >= 3 and n % 2 else None,
        )
        if n % 5 == 4:
            page.restricted_users = [ids[n % len(ids)]]
            page.restricted_groups = [groups[n % len(groups)].id] if n % 2 else []
        if n % 3 == 0:
            page.comments = [Comment(str(300000 + 2 * n + k), f"<p>{fake.sentence()}</p>", 1,
                                     stamp(created + dt.timedelta(hours=k + 1)))
                             for k in range(2)]  # fmt: skip
        if n % 4 == 1:
            text = " ".join(fake.sentence() for _ in range(4))
            page.attachments = [Attachment(f"att{500000 + n}", f"notes-{n}.txt", "text/plain",
                                           text.encode(), 1, stamp(created))]  # fmt: skip
        pages.append(page)
    return Corpus(users, groups, spaces, pages)
