"""Item-level faults in a `_bulk` answer: some actions of one request refused (429, 503,
400...) while the rest go through to Elasticsearch, as a busy cluster answers. A whole
request failing tests a client's request retry; only a mixed answer tests its per-item
path: that it re-sends exactly the refused items, under their own ids, and counts each
accepted document once.

The proxy splits the request's NDJSON into actions, forwards the ones it keeps, and puts
an item for each refused action back at its place in Elasticsearch's answer."""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from typing import Any

import orjson

KINDS = ("index", "create", "update", "delete")
REASONS = {
    429: "es_rejected_execution_exception",
    503: "unavailable_shards_exception",
    400: "document_parsing_exception",
    409: "version_conflict_engine_exception",
}


@dataclass(frozen=True)
class Action:
    """One action of a bulk body: its line, and its source line unless it is a delete."""

    kind: str
    meta: dict[str, Any]
    lines: tuple[bytes, ...]


@dataclass
class ItemRule:
    """Refuse every ``every``-th action of the matching requests with ``status``, until
    ``limit`` actions were refused. Counted over actions, not requests, so the refused
    share is the same whatever the client's batch size."""

    status: int
    every: int
    limit: int
    seen: int = 0
    refused: int = 0

    def refuses(self) -> bool:
        self.seen += 1
        if self.seen % self.every or self.refused >= self.limit:
            return False
        self.refused += 1
        return True


@dataclass
class Split:
    """A request's actions, those kept for Elasticsearch and the refused ones' items."""

    kept: list[Action] = field(default_factory=list)
    refused: dict[int, dict[str, Any]] = field(default_factory=dict)  # position -> item
    total: int = 0


def split_actions(body: bytes) -> list[Action]:
    """The body's actions, in order. A body the proxy cannot read raises ValueError: the
    test asked for item faults on something that is not a bulk request."""
    lines = [line for line in body.split(b"\n") if line.strip()]
    actions, i = [], 0
    while i < len(lines):
        head = orjson.loads(lines[i])
        kind = next(iter(head)) if isinstance(head, dict) and len(head) == 1 else None
        if kind not in KINDS:
            raise ValueError(f"not a bulk action line: {lines[i][:200]!r}")
        width = 1 if kind == "delete" else 2
        actions.append(Action(kind, dict(head[kind]), tuple(lines[i : i + width])))
        i += width
    return actions


def join_actions(actions: list[Action]) -> bytes:
    return b"".join(line + b"\n" for action in actions for line in action.lines)


def refuse(actions: list[Action], rules: list[ItemRule], index: str | None) -> Split:
    """The first rule that refuses an action decides it (a later rule counts only the
    actions the rules before it left); the rest are kept."""
    split = Split(total=len(actions))
    for position, action in enumerate(actions):
        rule = next((r for r in rules if r.refuses()), None)
        if rule is None:
            split.kept.append(action)
        else:
            split.refused[position] = refused_item(action, rule.status, index)
    return split


def refused_item(action: Action, status: int, index: str | None) -> dict[str, Any]:
    reason = REASONS.get(status, "injected_fault")
    outcome = {
        "_index": action.meta.get("_index", index),
        "_id": action.meta.get("_id"),
        "status": status,
        "error": {"type": reason, "reason": f"fault proxy: item refused with {status}"},
    }
    return {action.kind: outcome}


def merge(answer: dict[str, Any] | None, split: Split) -> dict[str, Any]:
    """Elasticsearch's items for the kept actions, with the refused ones at their places;
    its other keys (``took``, or none under a client's ``filter_path``) as it gave them.
    ``answer`` is None when every action was refused and nothing was forwarded."""
    forwarded = iter(answer["items"] if answer else [])
    items = [split.refused[p] if p in split.refused else next(forwarded)
             for p in range(split.total)]  # fmt: skip
    return (answer or {}) | {"errors": True, "items": items}  # the rest as the client asked


def request_body(body: bytes, encoding: str) -> bytes:
    """The plain NDJSON of a request, whether the client compressed it or not."""
    return gzip.decompress(body) if encoding.lower() == "gzip" else body


def index_of(path: str) -> str | None:
    """``/{index}/_bulk`` names the default index of its actions; ``/_bulk`` does not."""
    head = path.strip("/").split("/")[0]
    return None if head.startswith("_") else head
