"""Declared, typed connector configuration: every problem is reported at once, and
sensitive values never appear in reprs, logs or error messages."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

TYPES: dict[str, type | tuple[type, ...]] = {
    "str": str,
    "int": int,
    "float": (int, float),
    "bool": bool,
    "list": list,
    "dict": dict,
}


# Bounds every source shares: past them a value is a typo, not a plan.
MAX_CONNECT_TIMEOUT = 600  # seconds
MAX_EXTRACTED_BYTES = 1024 * 1024 * 1024  # the largest file a source downloads to extract


class ConfigError(ValueError):
    """A configuration is wrong; ``problems`` lists each one with the field it concerns."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration: " + "; ".join(problems))


@dataclass(frozen=True)
class ConfigField:
    name: str
    type: str = "str"
    label: str = ""
    default: Any = None
    required: bool = True
    sensitive: bool = False
    choices: tuple[Any, ...] | None = None
    min_value: float | None = None
    max_value: float | None = None
    pattern: str | None = None
    description: str = ""
    min_items: int | None = None  # a list: an empty one would mean nothing, or everything
    format: str | None = None  # "host" or "url": see FORMATS

    def check(self, value: Any) -> list[str]:
        shown = "***" if self.sensitive or _may_hold_credentials(value) else repr(value)
        expected = TYPES[self.type]
        if isinstance(value, bool) and self.type in ("int", "float"):
            return [f"{self.name}: expected {self.type}, got bool"]
        if isinstance(value, float) and not math.isfinite(value):
            return [f"{self.name}: {shown} is not a finite number"]
        if self.type == "int" and isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            value = int(value)
        if not isinstance(value, expected):
            return [f"{self.name}: expected {self.type}, got {type(value).__name__} {shown}"]
        problems = []
        if self.choices is not None and value not in self.choices:
            problems.append(f"{self.name}: {shown} is not one of {list(self.choices)}")
        number = value if isinstance(value, int | float) else None
        if self.min_value is not None and number is not None and number < self.min_value:
            problems.append(f"{self.name}: {shown} is below the minimum {self.min_value}")
        if self.max_value is not None and number is not None and number > self.max_value:
            problems.append(f"{self.name}: {shown} is above the maximum {self.max_value}")
        if self.pattern is not None and not re.fullmatch(self.pattern, str(value)):
            problems.append(f"{self.name}: {shown} does not match {self.pattern}")
        if self.min_items is not None and isinstance(value, list) and len(value) < self.min_items:
            problems.append(
                f"{self.name}: empty; name at least {self.min_items} (an empty list would "
                "sync nothing, and delete everything already indexed)"
            )
        if self.format is not None and isinstance(value, str):
            problems += FORMATS[self.format](self.name, value)
        return problems

    def coerce(self, value: Any) -> Any:
        if self.type == "int" and isinstance(value, str):
            return int(value)
        return value


def _may_hold_credentials(value: Any) -> bool:
    """A value that looks like a URL or DSN may carry a password: never echoed."""
    return isinstance(value, str) and ("@" in value or "://" in value)


HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?")
IPV6 = re.compile(r"\[?[0-9A-Fa-f:.]+(%[A-Za-z0-9]+)?\]?")


def _host(name: str, value: str) -> list[str]:
    if HOST.fullmatch(value) or (":" in value and IPV6.fullmatch(value)):
        return []
    what = "a URL or DSN" if _may_hold_credentials(value) else "what no host name holds"
    return [
        f"{name}: expected a host name or address (db.example.com, 10.0.0.5), got {what}; "
        "the value is not shown, as it may hold a password: give the port, user and "
        "password in their own fields"
    ]


def _url(name: str, value: str) -> list[str]:
    scheme, sep, rest = value.partition("://")
    netloc = rest.split("/", 1)[0]
    if not sep or scheme.lower() not in ("http", "https") or not netloc:
        return [f"{name}: expected an http(s):// URL"]
    if "@" in netloc:
        return [
            f"{name}: the URL holds credentials (user:password@); the value is not shown: "
            "give them in their own fields"
        ]
    return []


FORMATS: dict[str, Callable[[str, str], list[str]]] = {"host": _host, "url": _url}


def _unknown(name: str, known: set[str]) -> str:
    """A typo is the usual cause: name the nearest valid field."""
    near = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    hint = f"; did you mean {near[0]!r}?" if near else f"; known fields: {', '.join(sorted(known))}"
    return f"{name}: unknown field{hint}"


Check = Callable[[Mapping[str, Any]], list[str]]


@dataclass(frozen=True)
class ConfigSchema:
    """Fields, and checks across fields (run once every field is valid)."""

    fields: tuple[ConfigField, ...]
    checks: tuple[Check, ...] = ()

    def field(self, name: str) -> ConfigField:
        return next(f for f in self.fields if f.name == name)

    def parse(self, raw: Mapping[str, Any]) -> Config:
        """Apply defaults, check types and validations; raise one error naming every problem."""
        known = {f.name for f in self.fields}
        problems = [_unknown(name, known) for name in raw if name not in known]
        values: dict[str, Any] = {}
        for spec in self.fields:
            value = raw.get(spec.name, spec.default)
            if value is None or value == "":
                if spec.required:
                    problems.append(f"{spec.name}: required")
                values[spec.name] = spec.default
                continue
            found = spec.check(value)
            problems += found
            values[spec.name] = spec.coerce(value) if not found else value
        if not problems:
            for check in self.checks:
                problems += check(values)
        if problems:
            raise ConfigError(problems)
        return Config(values, frozenset(f.name for f in self.fields if f.sensitive))

    def describe(self) -> dict[str, dict[str, Any]]:
        """The schema in the shape of Elastic's connector ``configuration`` object."""
        return {
            f.name: {
                "label": f.label or f.name,
                "type": f.type,
                "required": f.required,
                "sensitive": f.sensitive,
                "default_value": f.default,
                "options": list(f.choices) if f.choices else [],
                "tooltip": f.description,
            }
            for f in self.fields
        }


@dataclass(frozen=True)
class Config(Mapping[str, Any]):
    values: dict[str, Any]  # type: ignore[assignment]  # a field, shadowing Mapping.values
    sensitive: frozenset[str] = field(default_factory=frozenset)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def redacted(self) -> dict[str, Any]:
        return {k: ("***" if k in self.sensitive and v else v) for k, v in self.values.items()}

    def __repr__(self) -> str:
        return f"Config({self.redacted()!r})"

    __str__ = __repr__
