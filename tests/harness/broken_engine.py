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
