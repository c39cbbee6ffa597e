"""PostgreSQL throughput benchmarks (run with --bench): declared, not written."""

from fixtures.postgresql import PostgresFixture
from harness.bench.suite import BenchmarkSuite
from harness.scenario import ConnectorScenario


class TestPostgreSQLBenchmarks(BenchmarkSuite):
    scenario = ConnectorScenario(
        connector="postgresql",
        service="postgresql",
        fixture=PostgresFixture,
        capabilities=frozenset({"incremental"}),
    )
