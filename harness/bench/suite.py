"""Benchmark scenarios, inherited by declaration like the standard suite:

    class TestPostgreSQLBenchmarks(BenchmarkSuite):
        scenario = ConnectorScenario(...)

Run with ``pytest scenarios/postgres --bench --benchmark-only --corpus-size medium``
(add ``--benchmark-json FILE`` or ``--benchmark-autosave`` to keep the results).
Each benchmark records, per round, the sync's own docs/s, MB/s and peak RSS, Elasticsearch's
indexing stats, and docs/s relative to the raw-bulk ceiling measured in the same run.
"""

from __future__ import annotations

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
    scan_ceiling,
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
        self.bodies: list[bytes] = []  # the synced index's documents as `_bulk` bodies

    @property
    def ceiling_index(self) -> str:
        return f"{self.index}-ceiling"

    def ceiling_round(self) -> CeilingSample:
        """One raw-`_bulk` round of the synced documents into an index of its own, then
        that index dropped: what the machine can ingest right now."""
        sample = bulk_ceiling(self.es, self.index, self.ceiling_index, self.bodies)
        es_request(self.es, "DELETE", f"/{self.ceiling_index}")
        return sample

    def scan_round(self) -> CeilingSample:
        """One raw read of the synced index's ids and hashes: what the machine can read
        right now, the ceiling of a sync that only reads."""
        return scan_ceiling(self.es, self.index)

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


def record(
    benchmark: Any,
    ctx: BenchContext,
    samples: list[SyncSample],
    ceilings: list[CeilingSample],
    **extra: Any,
) -> None:
    """Each sample ran right after a ceiling round (``ceilings``, one per sample), and is
    divided by that one, not by a median: a loaded machine slows a round and its ceiling
    alike, so the ratio cancels what a median would let through (two unmodified runs on
    the CI machine once differed 37 % by the median). So does a node still warming up:
    the first run after its start ingested at half the speed of the next, and the
    unchanged re-sync, divided then by the full sync's earlier ceilings, read 29 % slower
    in a run that changed nothing."""
    rates = [s.docs_per_second for s in samples]
    assert len(ceilings) == len(rates), "one ceiling round before each measured round"
    ratios = [r / c.docs_per_second for r, c in zip(rates, ceilings, strict=True)]
    kinds = {c.kind for c in ceilings}
    assert len(kinds) <= 1, f"one kind of ceiling a benchmark, not {sorted(kinds)}"
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
            "cpu_seconds": [s.cpu_seconds for s in samples],
            "docs_per_cpu_second": [s.docs_per_cpu_second for s in samples],
            "ceiling_docs_per_second": [c.docs_per_second for c in ceilings],
            "ratio_to_ceiling": ratios,
            "ceiling": kinds.pop() if kinds else "bulk",
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
            es_request(es_endpoint, "DELETE", f"/{ctx.ceiling_index}?ignore_unavailable=true")

    def test_bench_full_sync(self, bench: BenchContext, benchmark: Any) -> None:
        """Full syncs into an empty index, each round right after a ceiling round on the
        same documents, so both see the same machine state."""
        bench.drop_index()
        bench.sync()  # warm-up; its index provides the ceiling's documents
        bench.bodies = bulk_bodies(bench.es, bench.index, bench.ceiling_index)
        bench.ceiling_round()  # warm-up
        samples: list[SyncSample] = []

        def before_round() -> None:
            bench.ceiling.append(bench.ceiling_round())
            bench.drop_index()

        benchmark.pedantic(
            lambda: samples.append(bench.sync()),
            setup=before_round,
            rounds=bench.rounds,
            iterations=1,
        )
        expected = bench.fixture.expected_count()
        assert all(s.written == s.docs == expected for s in samples), "a full sync lost documents"
        record(benchmark, bench, samples, bench.ceiling)

    def test_bench_unchanged_resync(self, bench: BenchContext, benchmark: Any) -> None:
        """Each round right after a raw read of the index: the re-sync writes nothing, so
        what bounds it is reading, and a write ceiling would not move with it."""
        if not bench.ceiling:
            pytest.skip("needs test_bench_full_sync first (its index and ceiling)")
        samples: list[SyncSample] = []
        ceilings: list[CeilingSample] = []
        benchmark.pedantic(
            lambda: samples.append(bench.sync()),
            setup=lambda: ceilings.append(bench.scan_round()),
            rounds=bench.rounds,
            iterations=1,
        )
        assert all(s.written == 0 for s in samples), "an unchanged re-sync wrote documents"
        record(benchmark, bench, samples, ceilings)

    def test_bench_incremental_1pct(self, bench: BenchContext, benchmark: Any) -> None:
        if "incremental" not in self.scenario.capabilities or not bench.ceiling:
            pytest.skip("needs incremental sync and test_bench_full_sync first")
        bench.sync("incremental")  # establishes the cursor
        samples: list[SyncSample] = []
        changes: list[int] = []
        ceilings: list[CeilingSample] = []

        def change() -> None:
            ceilings.append(bench.ceiling_round())
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
        record(benchmark, bench, samples, ceilings, changed_per_round=changes)
