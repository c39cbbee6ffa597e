"""The PostgreSQL connector under the standard suite and the benchmark scenarios
(``--bench``): declared, not written."""

from fixtures.postgresql import PostgresFixture
from harness.bench.suite import BenchmarkSuite
from harness.scenario import ConnectorScenario
from harness.suite import StandardSuite

POSTGRESQL = ConnectorScenario(
    connector="postgresql",
    service="postgresql",
    fixture=PostgresFixture,
    capabilities=frozenset(
        {
            "incremental",
            "versions",
            "table_privileges",
            "custom_query_safety",
            "faults",
            "rejected_documents",
            "exact_revert",
        }
    ),
)


class TestPostgreSQL(StandardSuite):
    scenario = POSTGRESQL


class TestPostgreSQLBenchmarks(BenchmarkSuite):
    scenario = POSTGRESQL
