"""What a connector spec (the YAML or JSON file given to ``connectors create``) may say
outside its source's configuration: its own keys, its id and its index name. Every
problem is named at once, before anything is written.

A misspelt top-level key was silently ignored (``sheduling:`` left the connector
unscheduled), and ``index_name: .elastic-connectors`` had the sync write documents into
the runtime's own state: both are refused here."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

SPEC_KEYS = (
    "id",
    "name",
    "service_type",
    "index_name",
    "configuration",
    "scheduling",
    "basic_rules",
    "language",
    "description",
)
REQUIRED = ("id", "service_type", "index_name")
# What Elasticsearch refuses in an index name, and what it reserves.
FORBIDDEN = re.compile(r'[\\/*?"<>| ,#:A-Z]')
MAX_NAME_BYTES = 255
RESERVED_PREFIXES = (".", "_", "-", "+")
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def spec_problems(spec: Mapping[str, Any]) -> list[str]:
    problems = []
    for key in spec:
        if key not in SPEC_KEYS:
            near = difflib.get_close_matches(str(key), SPEC_KEYS, n=1, cutoff=0.6)
            hint = f"did you mean {near[0]!r}?" if near else f"known: {', '.join(SPEC_KEYS)}"
            problems.append(f"{key}: unknown key of a connector spec; {hint}")
    for key in REQUIRED:
        if not spec.get(key):
            problems.append(f"{key}: required")
        elif not isinstance(spec[key], str):
            problems.append(f"{key}: expected text, got {type(spec[key]).__name__}")
    if isinstance(spec.get("id"), str) and spec["id"] and not ID.fullmatch(spec["id"]):
        problems.append(
            f"id: {spec['id']!r} is not an id: letters, digits, '.', '_' and '-', "
            "starting with a letter or digit, at most 128"
        )
    if isinstance(spec.get("index_name"), str) and spec["index_name"]:
        problems += index_name_problems(spec["index_name"])
    for key in ("configuration", "scheduling"):
        if spec.get(key) is not None and not isinstance(spec[key], dict):
            problems.append(f"{key}: expected a mapping, got {type(spec[key]).__name__}")
    if spec.get("basic_rules") is not None and not isinstance(spec["basic_rules"], list):
        problems.append(f"basic_rules: expected a list, got {type(spec['basic_rules']).__name__}")
    return problems


def index_name_problems(name: str) -> list[str]:
    """A content index of the user's own: a valid Elasticsearch name that is neither
    hidden, nor system, nor the runtime's state, nor an identities index."""
    if name.startswith(RESERVED_PREFIXES):
        what = "the runtime's state" if name.startswith(".elastic-connectors") else "reserved"
        return [
            f"index_name: {name!r} starts with {name[0]!r}: such indices are {what} "
            "(hidden, system or state indices); give a name of your own, e.g. search-products"
        ]
    if name in (".", "..") or FORBIDDEN.search(name):
        return [
            f"index_name: {name!r} is not an index name: lowercase, without spaces or any "
            'of \\ / * ? " < > | , # :'
        ]
    if len(name.encode()) > MAX_NAME_BYTES:
        return [f"index_name: longer than {MAX_NAME_BYTES} bytes"]
    return []
