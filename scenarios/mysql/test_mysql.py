"""The MySQL/MariaDB connector under the standard suite and the benchmark scenarios
(``--bench``): declared, not written."""

from fixtures.mysql import MySQLFixture
from harness.bench.suite import BenchmarkSuite
from harness.scenario import ConnectorScenario
from harness.suite import StandardSuite

MYSQL = ConnectorScenario(
    connector="mysql",
    service="mysql",
    fixture=MySQLFixture,
    capabilities=frozenset(
        {
            "incremental",
            "versions",
            "faults",
            "rejected_documents",
            "exact_revert",
            "table_privileges",
            "custom_query_safety",
        }
    ),
)


class TestMySQL(StandardSuite):
    scenario = MYSQL


class TestMySQLBenchmarks(BenchmarkSuite):
    scenario = MYSQL
