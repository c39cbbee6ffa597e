"""Long listings (capability ``pagination``): a source read page by page (S3's
ListObjectsV2, a REST API's next links) loses nothing and repeats nothing across page
boundaries, on a first sync and on an unchanged re-sync that lists versions only."""

from __future__ import annotations

from harness.capabilities import Pagination, requires
from harness.scenario import ScenarioRun

MANY = 10_000  # ten pages at S3's 1,000 keys per page


class ListingSuite:
    @requires("pagination")
    def test_ten_thousand_small_documents_in_one_place_all_arrive(self, run: ScenarioRun) -> None:
        pages = run.able(Pagination).load_many_small(MANY)
        assert pages > 1, f"{MANY} documents fit in one page of this source: a weak case"
        run.sync()
        run.assert_index_matches()
        run.assert_job(indexed_document_count=MANY, deleted_document_count=0)
        before = run.write_stats()
        run.sync()
        run.assert_nothing_written_since(before)
