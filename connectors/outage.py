"""Since when a run of requests to one service has kept failing: the clock of one retry
deadline shared by every request of a sync (an Elasticsearch client, a bulk sink, a
source's client), and a line every PROGRESS_SECONDS saying what is waited for, so a long
wait is never silent. Any success ends the outage."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from connectors import defaults

log = logging.getLogger("connectors.retry")


@dataclass
class Outage:
    """One service's run of failures: ``what`` names it in the progress lines."""

    what: str
    since: float | None = None
    said_at: float = 0.0

    def failed(self, failure: str, deadline: float) -> float:
        """Note a failure; the outage's age in seconds."""
        now = time.monotonic()
        if self.since is None:
            self.since = now
        elapsed = now - self.since
        if now - self.said_at >= defaults.PROGRESS_SECONDS and elapsed > 0:
            self.said_at = now
            left = max(0.0, deadline - elapsed)
            log.warning(
                "%s unavailable for %.0fs, retrying for up to %.0fs more: %s",
                self.what,
                elapsed,
                left,
                failure,
            )
        return elapsed

    def ended(self) -> None:
        if self.since is not None:
            if time.monotonic() - self.since >= defaults.PROGRESS_SECONDS:
                log.warning("%s answers again", self.what)
            self.since = None
            self.said_at = 0.0
