"""Test-only switch: put this directory on PYTHONPATH and set HARNESS_TEST_SLOWDOWN_US_PER_DOC
to make every bulk request of the `connectors` runtime take that much longer per document.
It exists to prove that `harness bench compare` flags a slowdown; nothing ships it."""

import asyncio
import os

_DELAY = float(os.environ.get("HARNESS_TEST_SLOWDOWN_US_PER_DOC", "0")) / 1e6

if _DELAY:
    from connectors.es.sink import BulkSink

    _original = BulkSink._send

    async def _slow_send(self, batch):  # type: ignore[no-untyped-def]
        await asyncio.sleep(len(batch) * _DELAY)
        return await _original(self, batch)

    BulkSink._send = _slow_send  # type: ignore[method-assign]
