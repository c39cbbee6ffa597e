"""Benchmark scenarios, inherited by declaration like the standard suite:

    class TestPostgreSQLBenchmarks(BenchmarkSuite):
        scenario = ConnectorScenario(...)

Run with ``pytest scenarios/postgres --bench --benchmark-only --corpus-size medium``
(add ``--benchmark-json FILE`` or ``--benchmark-autosave`` to keep the results).
Each benchmark records, per round, the sync's own docs/s, MB/s and peak RSS, Elasticsearch's
indexing stats, and docs/s relative to the raw-bulk ceiling measured in the same run.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from harness.bench.measure import (
    CeilingSample,
    SyncSample,
    bulk_bodies,
    bulk_ceiling,
    cli_sync,
    index_stats,
)
from harness.plugin.options import run_options
from harness.scenario import ConnectorScenario, make_fixture
from harness.services import registry
from harness.services.es_http import es_request
from harness.subjects import ConnectorSpec
from harness.subjects.connectors_cli import create_connector


class BenchContext:
    def __init__(
        self,
        scenario: ConnectorScenario,
        fixture: Any,
        es: Any,
        index: str,
        rounds: int,
        env: dict[str, str],
    ) -> None:
        self.scenario, self.fixture, self.es, self.index = scenario, fixture, es, index
        self.rounds, self.env = rounds, env
        self.ceiling: list[CeilingSample] = []

    @property
    def spec(self) -> ConnectorSpec:
        return ConnectorSpec(
            self.index, self.scenario.connector, self.index, self.fixture.configuration()
        )

    def sync(self, mode: str = "full") -> SyncSample:
        return cli_sync(
            self.es, self.index, mode, self.env, getattr(self.fixture, "measure_round", None)
        )

    def drop_index(self) -> None:
        es_request(self.es, "DELETE", f"/{self.index}?ignore_unavailable=true")

    def ceiling_median(self) -> float:
        return statistics.median(c.docs_per_second for c in self.ceiling)


def record(
    benchmark: Any,
    ctx: BenchContext,
    samples: list[SyncSample],
    paired: bool = False,
    **extra: Any,
) -> None:
    """``paired``: each sample ran right after the ceiling round of the same index, and is
    divided by that one, not by their median: a loaded machine slows a round and its ceiling
    alike, so the ratio cancels what the median would let through (two unmodified runs on
    the CI machine once differed 37 % by the median)."""
    ceiling = ctx.ceiling_median() if ctx.ceiling else None
    rates = [s.docs_per_second for s in samples]
    if paired and len(ctx.ceiling) == len(rates):
        ratios = [r / c.docs_per_second for r, c in zip(rates, ctx.ceiling, strict=True)]
    else:
        ratios = [r / ceiling for r in rates] if ceiling else []
    figures = (
        {k: [s.figures.get(k) for s in samples] for k in samples[0].figures} if samples else {}
    )
    benchmark.extra_info.update(
        {
            "connector": ctx.scenario.connector,
            "docs": samples[0].docs if samples else 0,
            "docs_per_second": rates,
            "mb_per_second": [s.mb_per_second for s in samples],
            "peak_rss_mb": [s.peak_rss_mb for s in samples],
            "engine_seconds": [s.seconds for s in samples],
            "ceiling_docs_per_second": [c.docs_per_second for c in ctx.ceiling],
            "ratio_to_ceiling": ratios,
            "elasticsearch": index_stats(ctx.es, ctx.index),
            **figures,
            **extra,
        }
    )


class BenchmarkSuite:
    scenario: ClassVar[ConnectorScenario]

    @pytest.fixture(scope="class")
    @classmethod
    def bench(
        cls,
        request: pytest.FixtureRequest,
        es_endpoint: Any,
        harness_services: Any,
        run_namespace: Any,
        corpus_seed: int,
    ) -> Iterator[BenchContext]:
        chosen = run_options(request.config)
        if not chosen.bench:
            pytest.skip("benchmarks run with --bench")
        size = chosen.corpus_size
        name = f"bench-{cls.scenario.connector}-{size}"
        source_name = run_namespace.name_for(registry.kind(cls.scenario.service), name)
        fixture = make_fixture(cls.scenario, harness_services, source_name, corpus_seed)
        ctx = BenchContext(
            cls.scenario,
            fixture,
            es_endpoint,
            run_namespace.name_for(registry.kind("elasticsearch"), name),
            chosen.bench_rounds,
            {},
        )
        try:
            fixture.load(size)
            done = create_connector(es_endpoint, ctx.spec.to_dict())
            assert done.returncode == 0, done.stderr
            yield ctx
        finally:
            fixture.drop()
            ctx.drop_index()
            es_request(es_endpoint, "DELETE", f"/{ctx.index}-ceiling?ignore_unavailable=true")

    def test_bench_full_sync(self, bench: BenchContext, benchmark: Any) -> None:
        """Full syncs into an empty index, each round right after a ceiling round on the
        same documents, so both see the same machine state."""
        bench.drop_index()
        bench.sync()  # warm-up; its index provides the ceiling's documents
        target = f"{bench.index}-ceiling"
        bodies = bulk_bodies(bench.es, bench.index, target)
        bulk_ceiling(bench.es, bench.index, target, bodies)  # warm-up
        samples: list[SyncSample] = []

        def before_round() -> None:
            bench.ceiling.append(bulk_ceiling(bench.es, bench.index, target, bodies))
            es_request(bench.es, "DELETE", f"/{target}")
            bench.drop_index()

        benchmark.pedantic(
            lambda: samples.append(bench.sync()),
            setup=before_round,
            rounds=bench.rounds,
            iterations=1,
        )
        expected = bench.fixture.expected_count()
        assert all(s.written == s.docs == expected for s in samples), "a full sync lost documents"
        record(benchmark, bench, samples, paired=True)

    def test_bench_unchanged_resync(self, bench: BenchContext, benchmark: Any) -> None:
        if not bench.ceiling:
            pytest.skip("needs test_bench_full_sync first (its index and ceiling)")
        samples: list[SyncSample] = []
        benchmark.pedantic(lambda: samples.append(bench.sync()), rounds=bench.rounds, iterations=1)
        assert all(s.written == 0 for s in samples), "an unchanged re-sync wrote documents"
        record(benchmark, bench, samples)

    def test_bench_incremental_1pct(self, bench: BenchContext, benchmark: Any) -> None:
        if "incremental" not in self.scenario.capabilities or not bench.ceiling:
            pytest.skip("needs incremental sync and test_bench_full_sync first")
        bench.sync("incremental")  # establishes the cursor
        samples: list[SyncSample] = []
        changes: list[int] = []

        def change() -> None:
            changes.append(bench.fixture.mutate(update=0.01).changed)

        benchmark.pedantic(
            lambda: samples.append(bench.sync("incremental")),
            setup=change,
            rounds=bench.rounds,
            iterations=1,
        )
        assert [s.written for s in samples] == changes, (
            "incremental did not index exactly the changes"
        )
        record(benchmark, bench, samples, changed_per_round=changes)
