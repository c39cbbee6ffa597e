"""The subset of Confluence Query Language the mock answers: clauses on type, space, title,
id, lastModified and created, joined by AND and OR (AND binds tighter), with =, !=, ~, !~,
<, <=, >, >=, in and not in; a trailing ORDER BY is accepted and ignored (results come in
id order). Dates are "yyyy-MM-dd HH:mm", "yyyy/MM/dd HH:mm" or "yyyy-MM-dd", read as UTC
(the real service reads them in the calling user's time zone)."""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable
from typing import Any

FIELDS = {"type", "space", "title", "id", "lastmodified", "created"}
DATES = {"lastmodified", "created"}
TOKEN = re.compile(
    r'\s*(?:(\()|(\))|(,)|("(?:[^"\\]|\\.)*")|(!=|>=|<=|!~|=|~|<|>)|([^\s(),"=<>!~]+))'
)

Matcher = Callable[[dict[str, Any]], bool]
COMPARISONS = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
               ">": operator.gt, ">=": operator.ge}  # fmt: skip


class CqlError(ValueError):
    pass


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        found = TOKEN.match(text, pos)
        if not found or found.end() == pos:
            raise CqlError(f"unexpected {text[pos : pos + 20]!r} at {pos}")
        out.append(next(g for g in found.groups() if g is not None))
        pos = found.end()
    return out


def _value(token: str) -> str:
    return token[1:-1].replace('\\"', '"') if token.startswith('"') else token


def _date(text: str) -> dt.datetime:
    for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    raise CqlError(f"{text!r} is not a date (yyyy-MM-dd HH:mm)")


def _clause(name: str, op: str, values: list[str]) -> Matcher:
    if name not in FIELDS:
        raise CqlError(f"unknown field {name!r}; this mock knows {sorted(FIELDS)}")
    if name in DATES:
        if op not in ("=", "!=", "<", "<=", ">", ">="):
            raise CqlError(f"{op} does not apply to the date field {name}")
        when = _date(values[0])
        compare: Callable[[Any, Any], bool] = COMPARISONS[op]
        return lambda doc: compare(_as_date(doc[name]), when)
    if op in ("in", "not in"):
        wanted = set(values)
        return (lambda doc: str(doc[name]) in wanted) if op == "in" else (
            lambda doc: str(doc[name]) not in wanted)  # fmt: skip
    if op in ("~", "!~"):
        words = values[0].lower().split()

        def contains(doc: dict[str, Any]) -> bool:
            return all(w in str(doc[name]).lower() for w in words)

        return contains if op == "~" else (lambda doc: not contains(doc))
    if op in ("=", "!="):
        return (lambda doc: str(doc[name]) == values[0]) if op == "=" else (
            lambda doc: str(doc[name]) != values[0])  # fmt: skip
    raise CqlError(f"{op} does not apply to {name}")


def _as_date(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def parse_cql(text: str) -> Matcher:
    tokens = _tokens(re.split(r"\border\s+by\b", text, flags=re.I)[0])
    if not tokens:
        raise CqlError("empty query")
    pos = 0

    def clause() -> Matcher:
        nonlocal pos
        if pos + 2 > len(tokens):
            raise CqlError("a clause needs a field, an operator and a value")
        name, op = tokens[pos].lower(), tokens[pos + 1].lower()
        pos += 2
        if op == "not" and pos < len(tokens) and tokens[pos].lower() == "in":
            op, pos = "not in", pos + 1
        if op in ("in", "not in"):
            if pos >= len(tokens) or tokens[pos] != "(":
                raise CqlError(f"{op} needs a list: ({name} {op} (A, B))")
            values, pos = [], pos + 1
            while pos < len(tokens) and tokens[pos] != ")":
                if tokens[pos] != ",":
                    values.append(_value(tokens[pos]))
                pos += 1
            pos += 1
            return _clause(name, op, values)
        if pos >= len(tokens):
            raise CqlError(f"{name} {op} needs a value")
        value = _value(tokens[pos])
        pos += 1
        return _clause(name, op, [value])

    def conjunction() -> Matcher:
        nonlocal pos
        parts = [clause()]
        while pos < len(tokens) and tokens[pos].lower() == "and":
            pos += 1
            parts.append(clause())
        return lambda doc: all(p(doc) for p in parts)

    alternatives = [conjunction()]
    while pos < len(tokens) and tokens[pos].lower() == "or":
        pos += 1
        alternatives.append(conjunction())
    if pos != len(tokens):
        raise CqlError(f"unexpected {tokens[pos]!r}")
    return lambda doc: any(a(doc) for a in alternatives)
