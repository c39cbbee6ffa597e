"""The sync engine's rules, against the session's real Elasticsearch, with in-memory sources."""

import pytest

from connectors.documents import SourceDocument
from connectors.source import Operation
from connectors.sync import MassDeleteRefused, SyncOptions, full_sync, incremental_sync
from tests.connectors.es_sync import ids_in, sync
from tests.connectors.fakes import ListSource, docs

pytestmark = pytest.mark.services


def test_second_sync_of_an_unchanged_source_writes_nothing(es_endpoint, index):
    source = ListSource(docs(50))
    first = sync(es_endpoint, lambda c: full_sync(source, c, index))
    second = sync(es_endpoint, lambda c: full_sync(source, c, index))
    assert (first.indexed, first.unchanged) == (50, 0)
    assert (second.indexed, second.unchanged, second.deleted) == (0, 50, 0)


def test_changed_documents_are_rewritten_and_stale_ones_deleted(es_endpoint, index):
    sync(es_endpoint, lambda c: full_sync(ListSource(docs(20)), c, index))
    changed = docs(20)[:15]  # 15..19 are gone
    changed[0]["title"] = "new"
    result = sync(es_endpoint, lambda c: full_sync(ListSource(changed), c, index))
    assert (result.indexed, result.unchanged, result.deleted) == (1, 14, 5)
    assert ids_in(es_endpoint, index) == {str(i) for i in range(15)}


def test_a_failed_read_deletes_nothing(es_endpoint, index):
    sync(es_endpoint, lambda c: full_sync(ListSource(docs(20)), c, index))
    broken = ListSource(docs(10), fail_after=5)  # would make 15 docs stale if it finished
    result = sync(es_endpoint, lambda c: full_sync(broken, c, index))
    assert not result.read_complete
    assert "connection lost after 5 rows" in (result.error or "")
    assert result.deleted == 0
    assert len(ids_in(es_endpoint, index)) == 20


def test_mass_deletion_is_refused_without_the_override(es_endpoint, index):
    sync(es_endpoint, lambda c: full_sync(ListSource(docs(10)), c, index))
    with pytest.raises(MassDeleteRefused) as refused:
        sync(es_endpoint, lambda c: full_sync(ListSource(docs(3)), c, index))
    assert "refusing to delete 7 of 10 documents (70%)" in str(refused.value)
    assert str(refused.value).endswith(
        "Nothing was deleted; if the source really lost these rows, rerun with the "
        "mass-delete override"
    ), "the refusal says what to do"
    assert len(ids_in(es_endpoint, index)) == 10
    allowed = SyncOptions(allow_mass_delete=True)
    result = sync(es_endpoint, lambda c: full_sync(ListSource(docs(3)), c, index, allowed))
    assert result.deleted == 7


def test_exactly_the_allowed_fraction_may_be_deleted(es_endpoint, index):
    """The guard refuses *more than* half: half itself is an ordinary sync."""
    sync(es_endpoint, lambda c: full_sync(ListSource(docs(10)), c, index))
    result = sync(es_endpoint, lambda c: full_sync(ListSource(docs(5)), c, index))
    assert result.deleted == 5
    assert len(ids_in(es_endpoint, index)) == 5


def test_a_bad_document_is_reported_and_its_old_version_kept(es_endpoint, index):
    sync(es_endpoint, lambda c: full_sync(ListSource(docs(5)), c, index))
    rows = docs(5)
    rows[2]["title"] = object()  # cannot be serialised
    result = sync(es_endpoint, lambda c: full_sync(ListSource(rows), c, index))
    assert result.failed == 1
    assert result.failures[0].doc_id == "2"
    assert "cannot be serialised" in result.failures[0].reason
    assert not result.ok
    assert result.deleted == 0
    assert "2" in ids_in(es_endpoint, index)


def test_documents_es_rejects_are_counted_with_reasons(es_endpoint, index):
    sync(es_endpoint, lambda c: full_sync(ListSource(docs(3)), c, index))  # maps n as long
    rows = docs(4)
    rows[3]["n"] = "not a number"
    result = sync(es_endpoint, lambda c: full_sync(ListSource(rows), c, index))
    assert (result.indexed, result.failed) == (0, 1)
    assert result.failures[0].doc_id == "3"
    assert result.failures[0].error_type in (
        "document_parsing_exception",
        "mapper_parsing_exception",
    )


def test_incremental_returns_the_cursor_only_on_success(es_endpoint, index):
    changes = [Operation("index", "a", SourceDocument("a", {"v": 1})), Operation("delete", "b")]
    ok = sync(
        es_endpoint,
        lambda c: incremental_sync(
            ListSource([], changes=changes, cursor={"t": 5}), c, index, None
        ),
    )
    assert ok.cursor == {"t": 5}
    assert ok.indexed == 1
    failing = ListSource([], changes=changes, cursor={"t": 9}, fail_after=1)
    bad = sync(es_endpoint, lambda c: incremental_sync(failing, c, index, {"t": 5}))
    assert bad.error and bad.cursor is None


def test_bad_documents_past_the_kept_failures_are_counted_not_kept(es_endpoint, index):
    from connectors import defaults

    n = defaults.KEPT_FAILURES + 1
    rows = [{"_id": f"b{i}", "n": object()} for i in range(n)]
    result = sync(es_endpoint, lambda c: full_sync(ListSource(rows), c, index))
    assert result.failed == n
    assert len(result.failures) == defaults.KEPT_FAILURES


def test_an_incremental_sync_creates_its_index_with_the_given_settings(es_endpoint, index):
    options = SyncOptions(index_settings={"index": {"number_of_shards": 3}})
    changes = [Operation("index", "a", SourceDocument("a", {"v": 1}))]
    source = ListSource([], changes=changes, cursor={"t": 1})
    sync(es_endpoint, lambda c: incremental_sync(source, c, index, None, options))

    async def shards(client):
        found = await client.indices.get_settings(index=index)
        return found[index]["settings"]["index"]["number_of_shards"]

    assert sync(es_endpoint, shards) == "3"
