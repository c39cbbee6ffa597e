"""The S3 connector under the standard suite and the benchmark scenarios (``--bench``),
with the text of every file checked against the sentences the fixture wrote into it:
declared, not written."""

from fixtures.s3 import S3Fixture
from harness.bench.suite import BenchmarkSuite
from harness.scenario import ConnectorScenario
from harness.suite import StandardSuite

S3 = ConnectorScenario(
    connector="s3",
    service="s3",
    needs=("extraction",),
    fixture=S3Fixture,
    capabilities=frozenset({"incremental", "versions", "faults", "sync_rules", "pagination"}),
)


class TestS3(StandardSuite):
    scenario = S3


class TestS3Benchmarks(BenchmarkSuite):
    scenario = S3
