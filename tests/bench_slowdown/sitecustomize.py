"""Test-only switch: put this directory on PYTHONPATH and set HARNESS_TEST_SLOWDOWN_REPEAT=N
to make the `connectors` runtime send every bulk body N times (the extra copies after the
real one, their answers discarded: the index ends the same). It exists to prove that
`harness bench compare` flags a slowdown; nothing ships it.

The regression is more work, not a fixed sleep: a sleep's share of a sync shrinks as a
loaded machine slows everything else (150 us a document was once a 39% slowdown, not
flagged), while writing everything twice costs about the same share under any load."""

import os

_REPEAT = int(os.environ.get("HARNESS_TEST_SLOWDOWN_REPEAT", "1"))

if _REPEAT > 1:
    from connectors.es.sink import BulkSink

    _original = BulkSink._send

    async def _send_again(self, batch):  # type: ignore[no-untyped-def]
        result = await _original(self, batch)
        body = b"".join(item.payload for item in batch)
        for _ in range(_REPEAT - 1):
            await self.transport.send(body)
        return result

    BulkSink._send = _send_again  # type: ignore[method-assign]
