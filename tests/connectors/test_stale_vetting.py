"""Stale deletion asks the source first: a source that cannot confirm some unseen
documents are gone fails the sync before the first deletion, on whichever page of the
index's ids the doubt comes, and whether or not the vetted ids fit in memory."""

from __future__ import annotations

import pytest

from connectors import stale
from connectors.basic_rules import parse_basic_rules
from connectors.filtered_source import BasicRulesSource
from connectors.source import SourceError
from connectors.sync import SyncOptions, full_sync
from tests.connectors.es_sync import ids_in, sync
from tests.connectors.fakes import ListSource, docs


class DoubtingSource(ListSource):
    """Refuses to confirm that ``doubted`` is gone; records every page it was asked about."""

    def __init__(self, rows: list[dict[str, object]], doubted: str | None = None) -> None:
        super().__init__(rows)
        self.doubted = doubted
        self.asked: list[list[str]] = []

    async def confirm_gone(self, doc_ids: list[str]) -> None:
        self.asked.append(list(doc_ids))
        if self.doubted in doc_ids:
            raise SourceError(f"cannot tell whether {self.doubted} is gone")


OPTIONS = SyncOptions(scan_page=3, allow_mass_delete=True)


@pytest.mark.parametrize("kept", [stale.KEPT_STALE_IDS, 2], ids=["kept", "rescanned"])
def test_a_doubt_on_a_later_page_deletes_nothing(es_endpoint, index, monkeypatch, kept):
    monkeypatch.setattr(stale, "KEPT_STALE_IDS", kept)
    sync(es_endpoint, lambda c: full_sync(ListSource(docs(12)), c, index, OPTIONS))
    source = DoubtingSource(docs(2), doubted="11")
    result = sync(es_endpoint, lambda c: full_sync(source, c, index, OPTIONS))
    assert result.error is not None and "cannot tell whether 11 is gone" in result.error
    assert (result.ok, result.deleted) == (False, 0)
    assert len(source.asked) >= 2, "the doubt was meant to come on a later page"
    assert ids_in(es_endpoint, index) == {str(i) for i in range(12)}


@pytest.mark.parametrize("kept", [stale.KEPT_STALE_IDS, 2], ids=["kept", "rescanned"])
def test_confirmed_ids_are_all_deleted(es_endpoint, index, monkeypatch, kept):
    monkeypatch.setattr(stale, "KEPT_STALE_IDS", kept)
    sync(es_endpoint, lambda c: full_sync(ListSource(docs(12)), c, index, OPTIONS))
    source = DoubtingSource(docs(2))
    result = sync(es_endpoint, lambda c: full_sync(source, c, index, OPTIONS))
    assert (result.ok, result.deleted) == (True, 10)
    assert sorted(i for page in source.asked for i in page) == sorted(str(i) for i in range(2, 12))
    assert ids_in(es_endpoint, index) == {"0", "1"}


def test_sync_rules_hand_on_the_sources_vetting(es_endpoint, index):
    sync(es_endpoint, lambda c: full_sync(ListSource(docs(4)), c, index, OPTIONS))
    rules = parse_basic_rules(
        [{"order": 0, "policy": "include", "field": "title", "rule": "regex", "value": ".*"}]
    )
    inner = DoubtingSource(docs(2), doubted="3")
    filtered = BasicRulesSource(inner, rules)
    assert stale.vets_deletions(filtered) and not stale.vets_deletions(ListSource([]))
    result = sync(es_endpoint, lambda c: full_sync(filtered, c, index, OPTIONS))
    assert (result.ok, result.deleted) == (False, 0) and inner.asked
    assert ids_in(es_endpoint, index) == {"0", "1", "2", "3"}
