"""The Confluence connector under the standard suite, against the harness's mock
Confluence: declared, not written."""

from fixtures.confluence import ConfluenceFixture
from harness.scenario import ConnectorScenario
from harness.suite import StandardSuite

CONFLUENCE = ConnectorScenario(
    connector="confluence",
    service="mockapi",
    fixture=ConfluenceFixture,
    capabilities=frozenset(
        {
            "incremental",
            "versions",
            "faults",
            "sync_rules",
            "rate_limited",
            "dls",
            "unstable_pagination",
        }
    ),
)


class TestConfluence(StandardSuite):
    scenario = CONFLUENCE
