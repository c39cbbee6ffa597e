"""Bad configurations generated from a connector's own schema (``config_schema()``), as
Hypothesis strategies: for each declared field, values its declaration refuses -- the
wrong type, a number past a bound or not finite, an empty list where one means nothing,
a value outside its choices, a host or URL holding credentials, the field missing -- and
misspelt field names. Each case knows the field its refusal must name and the secret it
carries, which the refusal must not show.

The cases come from the declaration, so a connector's suite grows with its schema, and a
field declared without its bounds is found by the refusals that do not come."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from connectors.config import ConfigField, ConfigSchema

SECRET = "Pw-planted-7Qz"  # a password planted in a host or URL: never shown back


@dataclass(frozen=True)
class BadCase:
    field: str  # the name the refusal must say (``field:``)
    configuration: dict[str, Any]
    what: str  # for the report: which kind of bad value
    suggest: str | None = None  # a misspelling's right name, which the refusal must offer

    def __repr__(self) -> str:  # Hypothesis prints it for a failing example
        value = self.configuration.get(self.field, "<missing>")
        return f"BadCase({self.field}={value!r}: {self.what})"


def _wrong_types(field: ConfigField) -> list[tuple[Any, str]]:
    others: dict[str, Any] = {
        "str": 12345,
        "int": "twelve",
        "float": "1.5 seconds",
        "bool": "yes",
        "list": "one,two",
        "dict": ["a", "b"],
    }
    return [(others[field.type], f"a {type(others[field.type]).__name__} for a {field.type}")]


def _secret_shaped(field: ConfigField) -> list[tuple[Any, str]]:
    """A sensitive field's own value refused: the wrong type still holding the secret (a
    password pasted as a list, a token as a mapping). A refusal that echoes the offending
    value shows the secret; the other kinds' values (12345) would not show a leak."""
    if not field.sensitive:
        return []
    if field.type == "list":
        return [(SECRET, "the secret as a string for a list")]
    return [([SECRET], "a list holding the secret"), ({"value": SECRET}, "a mapping holding it")]


def _bad_values(field: ConfigField) -> st.SearchStrategy[tuple[Any, str]]:
    kinds = _wrong_types(field) + _secret_shaped(field)
    options: list[st.SearchStrategy[tuple[Any, str]]] = [st.sampled_from(kinds)]
    if field.type in ("int", "float"):
        options.append(st.sampled_from([(math.nan, "NaN"), (math.inf, "infinity")]))
        if field.min_value is not None:
            below = st.integers(max_value=math.ceil(field.min_value) - 1, min_value=-(10**12))
            options.append(below.map(lambda v: (v, "below the minimum")))
        if field.max_value is not None:
            above = st.integers(min_value=math.floor(field.max_value) + 1, max_value=10**15)
            options.append(above.map(lambda v: (v, "above the maximum")))
    if field.min_items:
        options.append(st.just(([], "an empty list")))
    if field.choices:
        options.append(st.just(("not-a-choice", "outside the choices")))
    if field.format == "host":
        options.append(
            st.sampled_from(
                [
                    (f"postgresql://admin:{SECRET}@db.example.com:5432/app", "a DSN"),
                    (f"admin:{SECRET}@db.example.com", "credentials and a host"),
                    ("db.example.com/app", "a host and a path"),
                ]
            )
        )
    if field.format == "url":
        options.append(
            st.sampled_from(
                [
                    (f"https://admin:{SECRET}@example.com/", "a URL with credentials"),
                    ("ftp://example.com", "not http(s)"),
                    ("example.com", "no scheme"),
                ]
            )
        )
    if field.required and field.default is None:
        options.append(st.just((None, "missing")))
    return st.one_of(options)


def every_kind(schema: ConfigSchema, valid: dict[str, Any]) -> list[BadCase]:
    """One case of every kind of bad value each field declares (its smallest example:
    the bound itself, moved by one), and one misspelling of each field: the floor of
    what a connector must refuse, before Hypothesis draws more."""
    cases = []
    for field in schema.fields:
        for value, what in _kinds(field):
            configuration = dict(valid)
            if value is None:
                configuration.pop(field.name, None)
            else:
                configuration[field.name] = value
            cases.append(BadCase(field.name, configuration, what))
        if len(field.name) > 3:
            typo = field.name[0] + field.name[2:]  # the second letter dropped
            configuration = {k: v for k, v in valid.items() if k != field.name}
            configuration[typo] = valid.get(field.name, field.default) or "x"
            cases.append(BadCase(typo, configuration, f"{field.name} misspelt", field.name))
    return cases


def _kinds(field: ConfigField) -> list[tuple[Any, str]]:
    kinds = _wrong_types(field) + _secret_shaped(field)
    if field.type in ("int", "float"):
        kinds += [(math.nan, "NaN"), (math.inf, "infinity")]
        if field.min_value is not None:
            kinds.append((math.ceil(field.min_value) - 1, "below the minimum"))
        if field.max_value is not None:
            kinds.append((math.floor(field.max_value) + 1, "above the maximum"))
    if field.min_items:
        kinds.append(([], "an empty list"))
    if field.format == "host":
        kinds.append((f"postgresql://admin:{SECRET}@db.example.com:5432/app", "a DSN"))
    if field.format == "url":
        kinds.append((f"https://admin:{SECRET}@example.com/", "a URL with credentials"))
    if field.required and field.default is None:
        kinds.append((None, "missing"))
    return kinds


def _misspelt(name: str) -> st.SearchStrategy[str]:
    """A typo of ``name``: a letter dropped or two swapped (never the name itself)."""
    dropped = [name[:i] + name[i + 1 :] for i in range(1, len(name))]
    swapped = [name[:i] + name[i + 1] + name[i] + name[i + 2 :] for i in range(1, len(name) - 1)]
    return st.sampled_from(sorted({t for t in dropped + swapped if t != name and len(t) > 2}))


@st.composite
def bad_configurations(draw: st.DrawFn, schema: ConfigSchema, valid: dict[str, Any]) -> BadCase:
    """One valid configuration made bad in exactly one place."""
    field = draw(st.sampled_from(schema.fields))
    if draw(st.integers(0, 4)) == 0 and len(field.name) > 3:
        typo = draw(_misspelt(field.name))
        configuration = {k: v for k, v in valid.items() if k != field.name}
        value = valid.get(field.name, field.default)
        configuration[typo] = value if value is not None else "x"
        return BadCase(typo, configuration, f"{field.name} misspelt", suggest=field.name)
    value, what = draw(_bad_values(field))
    configuration = dict(valid)
    if value is None:
        configuration.pop(field.name, None)
    else:
        configuration[field.name] = value
    return BadCase(field.name, configuration, what)
