"""Basic sync rules: order decides, the default applies last, every wrong rule is named."""

import asyncio

import pytest

from connectors.basic_rules import admits, parse_basic_rules
from connectors.config import ConfigError
from connectors.documents import SourceDocument
from connectors.filtered_source import BasicRulesSource
from connectors.source import Operation
from tests.connectors.fakes import VersionedListSource, docs

DOC = {"space": "ENG", "title": "Draft: release plan", "size": 1200, "labels": ["a", "b"],
       "modified": "2024-03-02T10:00:00Z"}  # fmt: skip


def rule(field, kind, value, policy, order):
    return {"field": field, "rule": kind, "value": value, "policy": policy, "order": order}


def test_the_first_matching_rule_in_order_decides():
    rules = parse_basic_rules([
        rule("space", "equals", "ENG", "include", 2),
        rule("title", "starts_with", "Draft", "exclude", 1),
    ])  # fmt: skip
    assert not admits(rules, DOC)  # order 1 comes first, whatever the list's order
    assert admits(rules, DOC | {"title": "Release plan"})


def test_the_default_rule_applies_last_and_without_one_documents_are_included():
    rules = parse_basic_rules([
        rule("_", "regex", ".*", "exclude", 0),  # the default, whatever its order
        rule("space", "equals", "ENG", "include", 5),
    ])  # fmt: skip
    assert admits(rules, DOC) and not admits(rules, DOC | {"space": "BIZ"})
    assert admits(parse_basic_rules([rule("space", "equals", "X", "exclude", 0)]), DOC)
    assert admits((), DOC)


@pytest.mark.parametrize(
    ("kind", "field", "value", "expected"),
    [
        ("contains", "title", "release", True),
        ("ends_with", "title", "plan", True),
        ("regex", "title", "Draft.*", True),
        ("regex", "title", "release", False),  # the whole value must match
        (">", "size", "1000", True),
        ("<", "size", "1000", False),
        (">", "modified", "2024-03-01", True),  # times compare as times, zones applied
        (">", "title", "1", False),  # not a number: never matched
        ("equals", "labels", "b", True),  # any value of a list
        ("equals", "missing", "x", False),
    ],
)
def test_each_kind_of_rule(kind, field, value, expected):
    assert admits(parse_basic_rules([rule(field, kind, value, "exclude", 0)]), DOC) != expected


def test_every_problem_is_named_by_its_place():
    with pytest.raises(ConfigError) as err:
        parse_basic_rules([
            {"field": "title", "rule": "like", "value": "x", "policy": "keep"},
            {"field": "title", "rule": "regex", "value": "(", "policy": "include", "ordre": 1},
            "nonsense",
        ])  # fmt: skip
    text = str(err.value)
    for part in ("basic_rules[0].rule: 'like' is not one of", "basic_rules[0].policy: 'keep'",
                 "basic_rules[1].value: not a regular expression", "basic_rules[1].ordre: unknown",
                 "basic_rules[2]: expected an object"):  # fmt: skip
        assert part in text, f"{part!r} not in {text}"


def test_a_filtered_source_leaves_out_what_the_rules_exclude_and_deletes_it_incrementally():
    rules = parse_basic_rules([{"field": "n", "rule": ">", "value": "2", "policy": "exclude"}])
    changes = [
        Operation("index", "1", SourceDocument("1", {"n": 1})),
        Operation("index", "7", SourceDocument("7", {"n": 7})),
        Operation("delete", "9"),
    ]
    source = VersionedListSource(docs(5))
    source.changes = changes
    filtered = BasicRulesSource(source, rules)

    async def read():
        full = [d.id async for d in filtered.get_docs()]
        ops = [(o.op, o.doc_id) async for o in filtered.get_docs_incrementally(None)]
        return full, ops

    full, ops = asyncio.run(read())
    assert full == ["0", "1", "2"]
    assert ops == [("index", "1"), ("delete", "7"), ("delete", "9")]
    assert filtered.supports_versions is False  # fields decide: every document is read
