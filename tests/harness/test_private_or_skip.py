"""A disruptive scenario is skipped only where the backend cannot give it a private
instance. A private node that fails to start is an error: under load, a node that missed
its deadline skipped the restart scenario, and a sink that never retried a bulk passed."""

from __future__ import annotations

from typing import Any

import pytest

from harness.plugin.services import private_or_skip
from harness.services.base import NoPrivateInstance, ServiceStartError


class Pool:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def private(self, name: str) -> Any:
        raise self.error


def test_no_private_instance_on_this_backend_is_a_skip() -> None:
    with pytest.raises(pytest.skip.Exception, match="external backend"):
        private_or_skip(Pool(NoPrivateInstance("the external backend gives only yours")), "x")  # type: ignore[arg-type]


def test_a_private_instance_that_fails_to_start_is_an_error_not_a_skip() -> None:
    with pytest.raises(ServiceStartError, match="not ready after 180s"):
        private_or_skip(Pool(ServiceStartError("Elasticsearch: not ready after 180s")), "x")  # type: ignore[arg-type]
