"""Loaded by the local S3 store's interpreter (its PYTHONPATH starts here): while the file
``s3-clock`` in its working directory (the store's workdir, where the harness starts it)
holds an ISO time, every object moto writes is stamped with it. A file, not a variable:
the harness reads its environment in known places only (tests/harness/
test_environment_reads.py), and the scenario must move the clock while the store runs.

S3 lists modification times in whole seconds, and a connector's incremental cursor holds
the latest one it saw. The bug that matters is an object written later within that same
second; real time cannot place a write there on a loaded machine, a stopped clock can:
the scenario stops it at the cursor's second, writes, and starts it again."""

import datetime as dt
import importlib.util
from types import ModuleType

CLOCK = "s3-clock"

models: ModuleType | None = None
if importlib.util.find_spec("moto") is not None:  # else not the store's interpreter
    from moto.s3 import models
if models is not None:
    _real = models.utcnow

    def _utcnow() -> dt.datetime:
        try:
            with open(CLOCK) as handle:
                text = handle.read().strip()
        except OSError:
            text = ""
        if not text:
            return _real()  # type: ignore[no-any-return]
        return dt.datetime.fromisoformat(text).astimezone(dt.UTC).replace(tzinfo=None)

    models.utcnow = _utcnow  # type: ignore[attr-defined]
