"""Basic sync rules, for any source: ordered include/exclude rules on a document's fields,
the first rule that matches deciding, and a default for documents no rule matches (as in
Elastic's connectors: ``{field, rule, value, policy, order}``).

    [{"field": "space", "rule": "equals", "value": "ENG", "policy": "include", "order": 1},
     {"field": "title", "rule": "starts_with", "value": "Draft", "policy": "exclude", "order": 0},
     {"field": "_", "rule": "regex", "value": ".*", "policy": "exclude", "order": 99}]

The last rule here is the default (``field`` "_" matches every document); without one,
documents no rule matches are included.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.config import ConfigError

KEYS = ("field", "rule", "value", "policy", "order")
POLICIES = ("include", "exclude")


def _number_or_time(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:  # a date without zone: read as UTC, never as local time
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def _compare(sign: int) -> Callable[[Any, str], bool]:
    def test(got: Any, value: str) -> bool:
        left, right = _number_or_time(got), _number_or_time(value)
        if left is None or right is None:
            return False  # neither a number nor a time: not comparable, not matched
        return (left - right) * sign > 0

    return test


MATCHERS: dict[str, Callable[[Any, str], bool]] = {
    "equals": lambda got, value: str(got) == value,
    "contains": lambda got, value: value in str(got),
    "starts_with": lambda got, value: str(got).startswith(value),
    "ends_with": lambda got, value: str(got).endswith(value),
    "regex": lambda got, value: re.fullmatch(value, str(got)) is not None,
    ">": _compare(1),
    "<": _compare(-1),
}


@dataclass(frozen=True)
class BasicRule:
    field: str
    rule: str
    value: str
    policy: str
    order: int

    def matches(self, fields: Mapping[str, Any]) -> bool:
        if self.field == "_":  # the default rule: every document
            return True
        if self.field not in fields or fields[self.field] is None:
            return False
        got = fields[self.field]
        values = got if isinstance(got, list) else [got]
        return any(MATCHERS[self.rule](v, self.value) for v in values)


def parse_basic_rules(raw: list[Any]) -> tuple[BasicRule, ...]:
    """In evaluation order; every problem of every rule named by its place at once."""
    problems: list[str] = []
    rules = []
    for i, spec in enumerate(raw):
        where = f"basic_rules[{i}]"
        if not isinstance(spec, dict):
            problems.append(f"{where}: expected an object with {', '.join(KEYS)}")
            continue
        found = [f"{where}.{k}: unknown; known: {', '.join(KEYS)}" for k in spec if k not in KEYS]
        found += [f"{where}.{k}: required" for k in ("field", "rule", "value", "policy")
                  if k not in spec]  # fmt: skip
        if spec.get("rule") is not None and spec.get("rule") not in MATCHERS:
            found.append(f"{where}.rule: {spec['rule']!r} is not one of {sorted(MATCHERS)}")
        if spec.get("policy") is not None and spec.get("policy") not in POLICIES:
            found.append(f"{where}.policy: {spec['policy']!r} is not include or exclude")
        if spec.get("rule") == "regex" and "value" in spec:
            try:
                re.compile(str(spec["value"]))
            except re.error as exc:
                found.append(f"{where}.value: not a regular expression ({exc})")
        if not isinstance(spec.get("order", 0), int):
            found.append(f"{where}.order: expected an integer")
        problems += found
        if not found:
            rules.append(BasicRule(str(spec["field"]), spec["rule"], str(spec["value"]),
                                   spec["policy"], spec.get("order", i)))  # fmt: skip
    if problems:
        raise ConfigError(problems)
    return tuple(sorted(rules, key=lambda r: (r.field == "_", r.order)))


def admits(rules: tuple[BasicRule, ...], fields: Mapping[str, Any]) -> bool:
    """The first matching rule's policy; include when none matches (or no rules)."""
    for rule in rules:
        if rule.matches(fields):
            return rule.policy == "include"
    return True
