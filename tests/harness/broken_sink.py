"""Broken variants of the bulk sink's per-item path (connectors/es/sink.py): what it does
with an answer whose items are mixed. Caught by the fault suite's mixed-answer scenario,
whose proxy refuses some items of a request and forwards the rest. Registered through
``SINK_VARIANTS`` in broken_variants.py."""

from __future__ import annotations

from typing import Any

from connectors.es.sink import BulkSink

_account = BulkSink._account


def _item_429_counted_as_indexed() -> None:
    """Only the request's status is looked at: a refused item is taken as written."""

    def account(
        self: Any, sent: list[Any], results: list[dict[str, Any]], final: bool
    ) -> list[Any]:
        accepted = [{k: v | {"status": 201} for k, v in r.items()} for r in results]
        return _account(self, sent, accepted, final)

    BulkSink._account = account  # type: ignore[method-assign]


def _whole_batch_resent() -> None:
    """Any refused item sends the whole batch again, the accepted items too."""

    def account(
        self: Any, sent: list[Any], results: list[dict[str, Any]], final: bool
    ) -> list[Any]:
        retry = _account(self, sent, results, final)
        return list(sent) if retry else retry

    BulkSink._account = account  # type: ignore[method-assign]


def _retry_list_off_by_one() -> None:
    """The items to re-send picked one place after the refused ones (an index slip)."""

    def account(
        self: Any, sent: list[Any], results: list[dict[str, Any]], final: bool
    ) -> list[Any]:
        retry = _account(self, sent, results, final)
        places = {id(item): n for n, item in enumerate(sent)}
        return [sent[(places[id(item)] + 1) % len(sent)] for item in retry]

    BulkSink._account = account  # type: ignore[method-assign]


SINK_VARIANTS = {
    "sink-item-429-counted-as-indexed": _item_429_counted_as_indexed,
    "sink-whole-batch-resent-on-item-errors": _whole_batch_resent,
    "sink-retry-list-off-by-one": _retry_list_off_by_one,
}
