"""The wall clock that leases, heartbeats and the lost-job sweep read.

One seam, because whether a lease is live is a comparison of times written by different
workers: a test that drives several workers through expiry (tests/connectors/
test_job_ownership_stateful.py) moves this clock instead of sleeping for a lease's length.
Call ``clock.seconds()`` through the module so that a replaced clock is seen everywhere.
"""

from __future__ import annotations

import datetime as dt
import time


def seconds() -> float:
    """Seconds since the epoch."""
    return time.time()


def iso(at: float | None = None) -> str:
    """``at`` (default: now) as the ISO 8601 text state documents store."""
    return dt.datetime.fromtimestamp(seconds() if at is None else at, dt.UTC).isoformat()


def parse(text: str) -> float:
    """Seconds since the epoch of a stored ISO 8601 time (one without a zone is UTC)."""
    stamp = dt.datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.timestamp()
