"""Wait strategies: poll a readiness condition, fail fast if the process dies.

No sleeps as synchronisation: every wait is on a condition, with a timeout whose error
carries the tail of the service's log.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from harness.services.base import ServiceStartError


class NotReady(Exception):
    """Raised by a probe to say "not yet", with the reason shown if the wait times out."""


@dataclass
class WaitFor:
    """Poll ``probe`` until it returns without raising ``NotReady`` or an ``OSError``."""

    what: str
    probe: Callable[[], object]
    timeout: float
    interval: float = 0.1

    def run(
        self,
        *,
        exited: Callable[[], int | None] = lambda: None,
        log_tail: Callable[[], str] = lambda: "",
    ) -> object:
        deadline = time.monotonic() + self.timeout
        last_reason = "no attempt yet"
        while True:
            code = exited()
            if code is not None:
                raise ServiceStartError(
                    f"{self.what}: the process exited with code {code} before it was ready"
                    f" (last check: {last_reason})",
                    log_tail(),
                )
            try:
                return self.probe()
            except (NotReady, OSError) as exc:
                last_reason = str(exc) or type(exc).__name__
            if time.monotonic() >= deadline:
                raise ServiceStartError(
                    f"{self.what}: not ready after {self.timeout:.0f}s (last check: {last_reason})",
                    log_tail(),
                )
            time.sleep(self.interval)
