"""Root conftest: the harness itself arrives as a pytest plugin (entry point
``connectors_harness``), so this only checks that the project is installed."""

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("connectors_harness"):
        raise pytest.UsageError(
            "the search-harness pytest plugin is not loaded; install the project first: "
            "pip install -e '.[dev]'"
        )
