"""The fault proxy's item-level faults: a bulk body split into actions and joined back
unchanged, refusals counted over actions, and the answer's items in the request's order."""

from __future__ import annotations

import gzip

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.faults import bulk_items

ids = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=8)
kinds = st.sampled_from(["index", "create", "delete"])


def body_of(actions: list[tuple[str, str]]) -> bytes:
    lines = []
    for kind, doc_id in actions:
        lines.append(orjson.dumps({kind: {"_id": doc_id}}))
        if kind != "delete":
            lines.append(orjson.dumps({"title": f"doc {doc_id}\nwith a newline"}))
    return b"".join(line + b"\n" for line in lines)


@given(st.lists(st.tuples(kinds, ids), max_size=20))
def test_a_body_splits_into_its_actions_and_joins_back(actions: list[tuple[str, str]]) -> None:
    body = body_of(actions)
    split = bulk_items.split_actions(body)
    assert [(a.kind, a.meta["_id"]) for a in split] == actions
    assert bulk_items.join_actions(split) == body


@given(st.lists(st.tuples(kinds, ids), min_size=1, max_size=30), st.integers(1, 5))
def test_refused_items_take_their_places_in_the_answer(
    actions: list[tuple[str, str]], every: int
) -> None:
    rule = bulk_items.ItemRule(429, every, limit=4)
    split = bulk_items.refuse(bulk_items.split_actions(body_of(actions)), [rule], "books")
    assert len(split.refused) == min(4, len(actions) // every) == rule.refused
    written = [{a.kind: {"_id": a.meta["_id"], "status": 201}} for a in split.kept]
    answer = {"took": 3, "errors": False, "items": written}
    merged = bulk_items.merge(answer if split.kept else None, split)
    got = [(next(iter(i)), next(iter(i.values()))["_id"]) for i in merged["items"]]
    assert got == actions
    statuses = [next(iter(i.values()))["status"] for i in merged["items"]]
    assert [n for n, s in enumerate(statuses) if s == 429] == sorted(split.refused)
    assert merged["errors"] is True and merged.get("took") == (3 if split.kept else None)


def test_the_first_rule_that_refuses_decides_and_limits_hold() -> None:
    actions = bulk_items.split_actions(body_of([("index", str(n)) for n in range(12)]))
    rules = [bulk_items.ItemRule(429, 3, limit=2), bulk_items.ItemRule(503, 2, limit=10)]
    split = bulk_items.refuse(actions, rules, None)
    found = {p: next(iter(i.values()))["status"] for p, i in split.refused.items()}
    # The second rule counts only what the first left: positions 0 1 3 4 6 7 8 9 10 11.
    assert found == {1: 503, 2: 429, 4: 503, 5: 429, 7: 503, 9: 503, 11: 503}


def test_a_compressed_body_and_a_path_index_are_read() -> None:
    body = body_of([("index", "a")])
    assert bulk_items.request_body(gzip.compress(body), "gzip") == body
    assert bulk_items.index_of("/books/_bulk") == "books"
    assert bulk_items.index_of("/_bulk") is None


def test_a_body_that_is_not_bulk_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="not a bulk action line"):
        bulk_items.split_actions(b'{"query": {}}\n')
