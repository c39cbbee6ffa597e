"""What SaaS APIs do to a sync (capability ``rate_limited``): a storm of 429 answers with
``Retry-After`` must be waited out, each for at least as long as asked, and the sync must
still end with exactly the source's documents."""

from __future__ import annotations

import pytest

from harness.scenario import ScenarioRun

requires = pytest.mark.requires


class SaasSuite:
    @requires("rate_limited")
    def test_a_429_storm_is_waited_out_as_long_as_asked(self, run: ScenarioRun) -> None:
        run.fixture.load("tiny")
        run.fixture.rate_limit(requests=10, window_s=1.0, retry_after_s=1)
        run.sync()
        run.assert_index_matches()
        throttled, margin = run.fixture.rate_limit_report()
        assert throttled >= 2, f"only {throttled} requests were refused with 429: a weak case"
        assert margin is not None and margin >= 0, (
            f"after a 429 asking for 1 s, the connector came back {-(margin or 0):.2f} s "
            "before Retry-After allowed it"
        )
