"""What the SQL sources share: the settings every table source has, and where an
incremental read stands at its cursor's boundary."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from connectors.config import ConfigField
from connectors.sources.pg_plans import decode_id

# Ids remembered at the cursor's exact value; past this, those rows may be sent again.
MAX_BOUNDARY_IDS = 1000


def server_fields(default_port: int) -> tuple[ConfigField, ...]:
    """Where the server is and who connects: host, port, username, password, database."""
    return (
        ConfigField("host", label="Host", default="127.0.0.1"),
        ConfigField(
            "port", "int", label="Port", default=default_port, min_value=1, max_value=65535
        ),
        ConfigField("username", label="Username"),
        ConfigField("password", label="Password", sensitive=True, required=False, default=""),
        ConfigField("database", label="Database"),
    )


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
        ConfigField("connect_timeout", "int", label="Connect timeout (s)", default=10, min_value=1),
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
        if len(self.cursor["ids"]) < MAX_BOUNDARY_IDS:
            self.cursor["ids"].append(doc_id)
