"""Document ids of table-shaped sources: ``<table>:<key>``, composite keys joined by ``|``.
Shared by every SQL source (and by a stale-deletion check that groups ids by table), so
an id means the same whichever source wrote it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _escape(value: Any, special: str = "|") -> str:
    text = str(value)
    if "\\" in text or special in text:
        return text.replace("\\", "\\\\").replace(special, "\\" + special)
    return text


def encode_id(plan_name: str, key_values: Sequence[Any]) -> str:
    """``<table>:<key>``; composite keys joined by ``|``. A backslash escapes ``|`` and
    itself inside key values, and ``:`` and itself inside the table name, so any id
    decodes to exactly one (table, key)."""
    return f"{_escape(plan_name, ':')}:" + "|".join(_escape(v) for v in key_values)


def decode_id(doc_id: str) -> tuple[str, list[str]]:
    """The inverse of ``encode_id``."""
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    name: str | None = None
    for char in doc_id:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif name is None and char == ":":
            name, current = "".join(current), []
        elif name is not None and char == "|":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return name if name is not None else "", parts
