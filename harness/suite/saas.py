"""What SaaS APIs do to a sync.

* ``rate_limited``: a storm of 429 answers with ``Retry-After`` must be waited out, each for
  at least as long as asked, and the sync must still end with exactly the source's documents.
* ``unstable_pagination``: items added and removed between two page requests of one read
  lose nothing that existed before and after it."""

from __future__ import annotations

from harness.capabilities import RateLimited, UnstablePagination, requires
from harness.checks.index_reader import IndexReader
from harness.scenario import ScenarioRun


class SaasSuite:
    @requires("rate_limited")
    def test_a_429_storm_is_waited_out_as_long_as_asked(self, run: ScenarioRun) -> None:
        run.fixture.load("tiny")
        run.able(RateLimited).rate_limit(requests=10, window_s=1.0, retry_after_s=1)
        run.sync()
        run.assert_index_matches()
        throttled, margin = run.able(RateLimited).rate_limit_report()
        assert throttled >= 2, f"only {throttled} requests were refused with 429: a weak case"
        assert margin is not None and margin >= 0, (
            f"after a 429 asking for 1 s, the connector came back {-(margin or 0):.2f} s "
            "before Retry-After allowed it"
        )

    @requires("unstable_pagination")
    def test_pages_added_and_removed_during_a_read_lose_nothing_that_stayed(
        self, run: ScenarioRun
    ) -> None:
        """Items appear and vanish between two page requests of one read (the oldest, already
        served, go first: an offset-paged read then skips what comes next). Whatever existed
        before the read and after it must be in the index; the next calm sync is exact."""
        run.fixture.load("tiny")
        run.fixture.read_in_small_pieces()
        before = {doc_id for doc_id, _ in run.fixture.expected_docs()}
        run.able(UnstablePagination).churn_during_reads(1)
        try:
            run.sync()
        finally:
            run.able(UnstablePagination).churn_during_reads(0)
        churned = run.able(UnstablePagination).churn_report()
        after = {doc_id for doc_id, _ in run.fixture.expected_docs()}
        assert churned >= 4 and before - after and after - before, (
            f"only {churned} changes landed during the read: a weak case"
        )
        stayed = before & after
        lost = stayed - set(IndexReader(run.es, run.index).ids())
        assert not lost, (
            f"{len(lost)} documents that existed before the read and after it are not in the "
            f"index ({', '.join(sorted(lost)[:5])}): items moved while the read paged "
            f"({churned} changes) and the connector lost its place"
        )
        run.sync()
        run.assert_index_matches()
