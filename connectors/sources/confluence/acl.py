"""Who may read a Confluence page, as ``_allow_access_control`` values, and each user's
identity for ``.search-acl-filter-<index>``.

A page is readable by who may read its space, narrowed by the read restrictions of the
page and of every ancestor (Confluence inherits them). Unrestricted, the space's own
principals are kept (``group:<id>``, ``user:<accountId>``, ``everyone``), so a group's new
member sees its pages through the identity document alone. Restricted, the intersection
is only expressible per user, so it is expanded to ``user:<accountId>`` values; those
documents change when a membership does, which their version says (``acl_digest``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

EVERYONE = "everyone"


@dataclass(frozen=True)
class Restriction:
    users: frozenset[str]
    groups: frozenset[str]


def space_principals(grants: Iterable[Mapping[str, object]]) -> frozenset[str]:
    """Read grants of a space (v2 ``principal`` objects) as access-control values."""
    out = set()
    for principal in grants:
        kind, ident = str(principal.get("type")), str(principal.get("id"))
        if kind == "role" and ident.lower() == "anonymous":
            out.add(EVERYONE)
        elif kind in ("user", "group"):
            out.add(f"{kind}:{ident}")
    return frozenset(out)


def page_access(
    space: frozenset[str],
    chain: list[Restriction],
    members: Mapping[str, frozenset[str]],
    all_users: frozenset[str],
) -> list[str]:
    """``chain``: the read restrictions of the page and its ancestors (empty ones left out)."""
    if not chain:
        return sorted(space)
    readers = _expand(space, members, all_users)
    for level in chain:
        allowed = set(level.users)
        for group in level.groups:
            allowed |= members.get(group, frozenset())
        readers &= allowed
    return sorted(f"user:{u}" for u in readers)


def _expand(
    principals: frozenset[str], members: Mapping[str, frozenset[str]], all_users: frozenset[str]
) -> set[str]:
    users: set[str] = set()
    for value in principals:
        if value == EVERYONE:
            users |= all_users
        elif value.startswith("group:"):
            users |= members.get(value[6:], frozenset())
        elif value.startswith("user:"):
            users.add(value[5:])
    return users


def identity_access(account_id: str, groups: Iterable[str]) -> list[str]:
    """What a user's searches may match: themselves, their groups, and everyone."""
    return sorted({f"user:{account_id}", EVERYONE, *(f"group:{g}" for g in groups)})


def acl_digest(values: list[str]) -> str:
    return hashlib.sha256("\n".join(values).encode()).hexdigest()[:16]
