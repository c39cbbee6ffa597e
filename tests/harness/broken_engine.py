"""Broken variants of the sync engine's change detection, its cursor handling and the
basic rules' checks: the standard cases that had no variant before (issue 28's audit).
Registered through ``ENGINE_VARIANTS`` in broken_variants.py."""

from __future__ import annotations

from typing import Any

import numpy as np

from connectors import api, basic_rules, jobs
from connectors.es.snapshot import IndexSnapshot

_observe = IndexSnapshot.observe


def _known_ids_taken_for_unchanged() -> None:
    """Skip-unchanged by id alone: a document already in the index is never sent again,
    whatever its content now."""

    def observe(self: Any, ids: np.ndarray, contents: np.ndarray) -> np.ndarray:
        unchanged = _observe(self, ids, contents)
        _pos, found = self._positions(ids)
        return unchanged | found  # type: ignore[no-any-return]

    IndexSnapshot.observe = observe  # type: ignore[method-assign,assignment]


def _new_ids_taken_for_unchanged() -> None:
    """Only documents the index knows are compared and fetched: an id it has never held
    is marked unchanged, so rows inserted since the last sync never arrive."""

    def observe(self: Any, ids: np.ndarray, contents: np.ndarray) -> np.ndarray:
        unchanged = _observe(self, ids, contents)
        if not len(self.ids):
            return unchanged
        _pos, found = self._positions(ids)
        return unchanged | ~found  # type: ignore[no-any-return]

    IndexSnapshot.observe = observe  # type: ignore[method-assign,assignment]


def _future_cursor_restarts() -> None:
    """A cursor the source has not reached yet taken for a corrupt one: the incremental
    sync starts over from nothing and sends every document."""
    original = getattr(jobs, "incremental_sync")  # noqa: B009

    async def restart(source: Any, client: Any, index: str, cursor: Any, *rest: Any) -> Any:
        return await original(source, client, index, None, *rest)

    setattr(jobs, "incremental_sync", restart)  # noqa: B010


def _bad_rules_dropped() -> None:
    """Basic rules checked leniently: a rule that is not one is dropped with a warning,
    and the sync runs under what is left."""
    original = basic_rules.parse_basic_rules

    def lenient(raw: list[Any]) -> tuple[basic_rules.BasicRule, ...]:
        kept = []
        for spec in raw:
            try:
                original([spec])
            except Exception:
                continue
            kept.append(spec)
        return original(kept)

    setattr(jobs, "parse_basic_rules", lenient)  # noqa: B010
    setattr(api, "parse_basic_rules", lenient)  # noqa: B010


ENGINE_VARIANTS = {
    "known-ids-taken-for-unchanged": _known_ids_taken_for_unchanged,
    "new-ids-taken-for-unchanged": _new_ids_taken_for_unchanged,
    "future-cursor-restarts": _future_cursor_restarts,
    "bad-rules-dropped": _bad_rules_dropped,
}


def _index_made_by_the_first_write() -> None:
    """No index created up front: Elasticsearch makes one at the first bulk write, so an
    empty source leaves no index at all (and a searcher's query fails)."""
    from connectors import sync

    async def nothing(*_args: Any, **_kwargs: Any) -> None:
        return None

    sync.ensure_index = nothing


def _cut_read_taken_for_the_end() -> None:
    """A read that breaks off is taken for the end of the data: the sync completes with
    what it read, and the rest is deleted as stale. The mass-delete guard alone stops this
    on its own (a read cut at 4 kB leaves most documents unseen), so the variant has no
    guard either: the scenario must catch the deletion itself."""
    from connectors.sources.postgresql.source import PostgreSQLDataSource
    from tests.harness.broken_outcomes import OUTCOME_VARIANTS

    OUTCOME_VARIANTS["mass-delete-unguarded"]()

    def quietly(read: Any) -> Any:
        async def ended(self: Any, *args: Any) -> Any:
            try:
                async for item in read(self, *args):
                    yield item
            except Exception:  # the bug: any error ends the read as if it were complete
                return

        return ended

    for name in ("get_docs", "get_versions", "get_docs_by_ids"):
        setattr(PostgreSQLDataSource, name, quietly(getattr(PostgreSQLDataSource, name)))


def _version_is_the_row_version() -> None:
    """The row's transaction id (PostgreSQL's xmin) taken for its version: a row changed
    and changed back is written again, though nothing in it differs."""
    from psycopg import sql

    from connectors.sources.postgresql.queries import Plan
    from tests.harness.broken_identity import rewritten

    documents, versions = Plan.documents, Plan.select_versions

    def documents_by_xmin(self: Any, *args: Any, **kwargs: Any) -> sql.SQL:
        return rewritten(documents(self, *args, **kwargs),
                       ("row_to_json(x)::text AS document", "row_to_json(x)::text AS document, "
                        "t.xmin::text AS row_version"),
                       ("md5(d.document)", "d.row_version"))  # fmt: skip

    def versions_by_xmin(self: Any) -> sql.SQL:
        return rewritten(versions(self), ("md5(row_to_json(x)::text)", "t.xmin::text"))

    Plan.documents = documents_by_xmin  # type: ignore[method-assign,assignment]
    Plan.select_versions = versions_by_xmin  # type: ignore[method-assign,assignment]


ENGINE_VARIANTS |= {
    "index-made-by-the-first-write": _index_made_by_the_first_write,
    "cut-read-taken-for-the-end": _cut_read_taken_for_the_end,
    "version-is-the-row-version": _version_is_the_row_version,
}
