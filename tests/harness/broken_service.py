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


SERVICE_VARIANTS = {"service-sweep-takes-every-unleased-job": _sweep_takes_every_unleased_job}
