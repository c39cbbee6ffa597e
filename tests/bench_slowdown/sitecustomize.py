"""Test-only switch: put this directory on PYTHONPATH and set HARNESS_TEST_SLOWDOWN_FACTOR=F
to make every full sync of the `connectors` runtime take F times as long: after the sync,
it waits (F - 1) times what the sync took, and reports the whole as its time. It exists to
prove that `harness bench compare` flags a slowdown; nothing ships it.

The regression is a share of the sync, not a fixed cost: a fixed sleep per document shrank
as a loaded machine slowed everything else (150 us a document cost 26.6% once, not
flagged), and writing every bulk body twice cost only 27% (the writes are not most of a
small full sync). A factor of the engine's own time is the same factor under any load."""

import os

_FACTOR = float(os.environ.get("HARNESS_TEST_SLOWDOWN_FACTOR", "1"))

if _FACTOR > 1:
    import asyncio

    from connectors import jobs, sync

    _original = sync.full_sync

    async def _slowed(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = await _original(*args, **kwargs)
        extra = result.seconds * (_FACTOR - 1)
        await asyncio.sleep(extra)  # the engine's time really grows: the wall clock too
        result.seconds += extra
        return result

    sync.full_sync = _slowed
    jobs.full_sync = _slowed
