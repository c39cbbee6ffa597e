"""Broken variants of the long-running service, run in its own process through
tests/broken_in_subprocess (the cli subject starts it). Registered through
``SERVICE_VARIANTS`` in broken_variants.py."""

from __future__ import annotations

from typing import Any

from connectors import liveness, service


def _sweep_takes_every_unleased_job() -> None:
    """The lost-job sweep judges a job by the lease alone: any live job with no live lease
    of ours is taken for lost, a job another worker is running and heartbeating too."""
    original = liveness.reclaim_lost_jobs

    async def every_unleased(client: Any, *args: Any, **kwargs: Any) -> list[str]:
        search = client.search

        async def without_heartbeats(*a: Any, query: dict[str, Any], **kw: Any) -> Any:
            judged = {k: v for k, v in query["bool"].items() if k != "should"}
            judged.pop("minimum_should_match", None)
            return await search(*a, query={"bool": judged}, **kw)

        client.search = without_heartbeats
        try:
            return await original(client, *args, **kwargs)
        finally:
            del client.search

    setattr(service, "reclaim_lost_jobs", every_unleased)  # noqa: B010


def _stop_waits_for_the_job() -> None:
    """SIGTERM heard, but the running job is finished first: a stop takes as long as the
    longest sync, and a supervisor's kill timeout ends it mid-write instead."""
    original = getattr(service, "run_job")  # noqa: B009

    async def run_to_the_end(*args: Any, **kwargs: Any) -> Any:
        kwargs.pop("stopping", None)
        return await original(*args, **kwargs)

    setattr(service, "run_job", run_to_the_end)  # noqa: B010


SERVICE_VARIANTS = {
    "service-sweep-takes-every-unleased-job": _sweep_takes_every_unleased_job,
    "service-stop-waits-for-the-job": _stop_waits_for_the_job,
}
