"""Test-only switch: put this directory on PYTHONPATH and set HARNESS_TEST_SLOWDOWN_FACTOR=F
to make every full sync of the `connectors` runtime cost F times its CPU and take F times
its time. After the sync it computes for (F - 1) times the CPU the sync used, then waits
out what is left of (F - 1) times the sync's wall time, and reports both. It exists to
prove that `harness bench compare` flags a slowdown on either basis (CPU per document, or
the ratio to the ceiling); nothing ships it.

The regression is a share of the sync, not a fixed cost: a fixed sleep per document shrank
as a loaded machine slowed everything else (150 us a document cost 26.6% once, not
flagged), and writing every bulk body twice cost only 27% (the writes are not most of a
small full sync). A factor of the engine's own figures is the same factor under any load."""

import os

_FACTOR = float(os.environ.get("HARNESS_TEST_SLOWDOWN_FACTOR", "1"))

if _FACTOR > 1:
    import asyncio
    import time

    from connectors import jobs, sync

    _original = sync.full_sync

    async def _slowed(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = await _original(*args, **kwargs)
        started, cpu_started = time.perf_counter(), time.process_time()
        while time.process_time() - cpu_started < result.cpu_seconds * (_FACTOR - 1):
            sum(range(10_000))  # work, not waiting: the CPU really grows
        left = result.seconds * (_FACTOR - 1) - (time.perf_counter() - started)
        await asyncio.sleep(max(0.0, left))  # and the wall clock at least as much
        result.seconds += time.perf_counter() - started
        result.cpu_seconds += time.process_time() - cpu_started
        return result

    sync.full_sync = _slowed
    jobs.full_sync = _slowed
