"""Long listings (capability ``pagination``): a source read page by page (S3's
ListObjectsV2, a REST API's next links) loses nothing and repeats nothing across page
boundaries, on a first sync and on an unchanged re-sync that lists versions only."""

from __future__ import annotations

from harness.capabilities import Pagination, requires
from harness.scenario import ScenarioRun

PAGES = 10


class ListingSuite:
    @requires("pagination")
    def test_ten_pages_of_small_documents_in_one_place_all_arrive(self, run: ScenarioRun) -> None:
        many = run.able(Pagination).load_pages(PAGES)
        assert many > PAGES, f"{many} documents for {PAGES} pages: pages of one are a weak case"
        run.sync()
        run.assert_index_matches()
        run.assert_job(indexed_document_count=many, deleted_document_count=0)
        before = run.write_stats()
        run.sync()
        run.assert_nothing_written_since(before)
