"""What the SQL sources share: the settings every table source has, and where an
incremental read stands at its cursor's boundary."""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from connectors import defaults
from connectors.config import MAX_CONNECT_TIMEOUT, ConfigField
from connectors.ids import decode_id

QUERY_KEYS = ("name", "query", "id_columns")


def something_to_read(config: Mapping[str, Any]) -> list[str]:
    """Tables or queries must name something: with neither, a sync reads nothing and
    deletes every document already indexed."""
    if not config["tables"] and not config["queries"]:
        return [
            "tables: empty and no queries: name the tables to sync ('*' for all), or give queries"
        ]
    return []


def query_problems(config: Mapping[str, Any]) -> list[str]:
    """Each custom query: a name, the query text and its key columns, nothing else."""
    problems = []
    for i, spec in enumerate(config["queries"]):
        where = f"queries[{i}]"
        if not isinstance(spec, dict):
            problems.append(f"{where}: expected an object with {', '.join(QUERY_KEYS)}")
            continue
        for key in spec:
            if key not in QUERY_KEYS:
                near = difflib.get_close_matches(str(key), QUERY_KEYS, n=1)
                hint = f"did you mean {near[0]!r}?" if near else f"known: {', '.join(QUERY_KEYS)}"
                problems.append(f"{where}.{key}: unknown field; {hint}")
        for key in ("name", "query"):
            if not isinstance(spec.get(key), str) or not spec[key].strip():
                problems.append(f"{where}.{key}: required, a non-empty text")
        columns = spec.get("id_columns")
        if (
            not isinstance(columns, list)
            or not columns
            or not all(isinstance(c, str) and c for c in columns)
        ):
            problems.append(f"{where}.id_columns: required, a non-empty list of column names")
    return problems


def server_fields(default_port: int) -> tuple[ConfigField, ...]:
    """Where the server is and who connects: host, port, username, password, database."""
    return (
        ConfigField("host", label="Host", default="127.0.0.1", format="host"),
        ConfigField(
            "port", "int", label="Port", default=default_port, min_value=1, max_value=65535
        ),
        ConfigField("username", label="Username"),
        ConfigField("password", label="Password", sensitive=True, required=False, default=""),
        ConfigField("database", label="Database"),
    )


SQL_CHECKS = (something_to_read, query_problems)


def keys_by_table(ids: Iterable[str], key_widths: Mapping[str, int]) -> dict[str, list[list[str]]]:
    """The key values of each id, grouped by table; ids of unknown tables, or with the
    wrong number of key values, are left out (they cannot exist)."""
    wanted: dict[str, list[list[str]]] = defaultdict(list)
    for doc_id in ids:
        name, values = decode_id(doc_id)
        if name in key_widths and len(values) == key_widths[name]:
            wanted[name].append(values)
    return wanted


def queries_field() -> ConfigField:
    """Custom queries, each read like a table: its name stands for the table's in ids."""
    return ConfigField(
        "queries",
        "list",
        label="Custom queries",
        required=False,
        default=[],
        description="[{name, query, id_columns}] synced instead of tables",
    )


def table_source_fields() -> tuple[ConfigField, ...]:
    """Key columns, cursor column, round-trip size and connect timeout."""
    return (
        ConfigField(
            "id_columns",
            "dict",
            label="Key columns of tables without a primary key",
            required=False,
            default={},
        ),
        ConfigField(
            "cursor_column",
            label="Incremental cursor column",
            required=False,
            description="e.g. updated_at; enables incremental sync",
        ),
        ConfigField(
            "fetch_size",
            "int",
            label="Rows per round trip",
            default=2000,
            min_value=1,
            max_value=100_000,
        ),
        ConfigField(
            "connect_timeout",
            "int",
            label="Connect timeout (s)",
            default=10,
            min_value=1,
            max_value=MAX_CONNECT_TIMEOUT,
        ),
    )


class Boundary:
    """An incremental read in cursor order: rows at the stored value that were already
    sent are skipped, and the greatest value read with the ids read at exactly it is the
    next cursor -- so rows committed later at that same value are read next time."""

    def __init__(self, since: dict[str, Any] | None) -> None:
        self.since = since
        self._sent = set(since["ids"]) if since else set()
        self.cursor: dict[str, Any] | None = (
            {"value": since["value"], "ids": list(since["ids"])} if since else None
        )

    def already_sent(self, value: Any, doc_id: str) -> bool:
        return self.since is not None and value == self.since["value"] and doc_id in self._sent

    def read(self, value: Any, doc_id: str) -> None:
        if value is None:
            return
        if self.cursor is None or value != self.cursor["value"]:
            self.cursor = {"value": value, "ids": []}
        if len(self.cursor["ids"]) < defaults.MAX_BOUNDARY_IDS:
            self.cursor["ids"].append(doc_id)
