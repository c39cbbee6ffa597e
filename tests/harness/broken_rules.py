"""Broken variants of the basic sync rules (connectors/basic_rules.py), each a wrong
reading of one rule's documented meaning. They run against ``scenarios/confluence``, the
suite whose fixture declares basic-rule cases. Registered through ``RULES_VARIANTS`` in
broken_variants.py."""

from __future__ import annotations

import re
from typing import Any

from connectors import basic_rules, jobs


def _rules_in_list_order() -> None:
    """Rules tried in the order they are listed, not by their ``order``: a document that
    two rules match takes the policy of the one listed first."""
    original = basic_rules.parse_basic_rules

    def in_list_order(raw: list[Any]) -> tuple[basic_rules.BasicRule, ...]:
        original(raw)  # every problem still named
        listed = [basic_rules.BasicRule(str(s["field"]), s["rule"], str(s["value"]), s["policy"],
                                        s.get("order", i)) for i, s in enumerate(raw)]  # fmt: skip
        return tuple(sorted(listed, key=lambda r: r.field == "_"))  # the default still last

    setattr(jobs, "parse_basic_rules", in_list_order)  # noqa: B010


def _starts_with_as_contains() -> None:
    basic_rules.MATCHERS["starts_with"] = lambda got, value: value in str(got)


def _regex_searched() -> None:
    """A regex found anywhere in the value, not matching the whole of it."""
    basic_rules.MATCHERS["regex"] = lambda got, value: re.search(value, str(got)) is not None


def _regex_matched_at_the_start() -> None:
    """``re.match``: anchored at the start only, so a longer value that begins with a
    match is taken."""
    basic_rules.MATCHERS["regex"] = lambda got, value: re.match(value, str(got)) is not None


def _numbers_compared_as_strings() -> None:
    basic_rules.MATCHERS[">"] = lambda got, value: str(got) > value
    basic_rules.MATCHERS["<"] = lambda got, value: str(got) < value


RULES_VARIANTS = {
    "rules-in-list-order": _rules_in_list_order,
    "rules-starts-with-as-contains": _starts_with_as_contains,
    "rules-regex-searched": _regex_searched,
    "rules-regex-matched-at-the-start": _regex_matched_at_the_start,
    "rules-numbers-compared-as-strings": _numbers_compared_as_strings,
}
