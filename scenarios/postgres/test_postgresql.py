"""The PostgreSQL connector under the standard suite: declared, not written."""

from fixtures.postgresql import PostgresFixture
from harness.scenario import ConnectorScenario
from harness.suite import StandardSuite


class TestPostgreSQL(StandardSuite):
    scenario = ConnectorScenario(
        connector="postgresql",
        service="postgresql",
        fixture=PostgresFixture,
        capabilities=frozenset({"incremental"}),
    )
