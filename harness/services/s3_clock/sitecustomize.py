"""Loaded by the local S3 store's interpreter (its PYTHONPATH starts here): while the file
HARNESS_S3_CLOCK_FILE holds an ISO time, every object moto writes is stamped with it.

S3 lists modification times in whole seconds, and a connector's incremental cursor holds
the latest one it saw. The bug that matters is an object written later within that same
second; real time cannot place a write there on a loaded machine, a stopped clock can:
the scenario stops it at the cursor's second, writes, and starts it again."""

import datetime as dt
import os

_FILE = os.environ.get("HARNESS_S3_CLOCK_FILE")

if _FILE:
    from moto.s3 import models

    _real = models.utcnow  # type: ignore[attr-defined]
    _CLOCK: str = _FILE

    def _utcnow() -> dt.datetime:
        try:
            with open(_CLOCK) as handle:
                text = handle.read().strip()
        except OSError:
            text = ""
        if not text:
            return _real()
        return dt.datetime.fromisoformat(text).astimezone(dt.UTC).replace(tzinfo=None)

    models.utcnow = _utcnow  # type: ignore[attr-defined]
