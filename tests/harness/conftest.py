"""Fixtures shared by the harness's own tests."""

from tests.harness.mock_sites import mock, site  # noqa: F401 - fixtures for test_mockapi*
