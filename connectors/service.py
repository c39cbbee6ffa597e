"""The long-running connectors service: heartbeats, schedules, picks pending jobs, honours
cancelation, and on SIGTERM stops at the next batch leaving the job ``suspended`` (the
next service run resumes it)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal

from connectors.es.rest import EsClient
from connectors.es.state import (
    RUNNABLE,
    ConnectorDoc,
    ConnectorStatus,
    ConnectorStore,
    JobDoc,
    JobStatus,
    JobStore,
    JobType,
    TriggerMethod,
    ensure_state_indices,
    now,
)
from connectors.jobs import end_job, run_job
from connectors.liveness import claim_job, reclaim_lost_jobs
from connectors.schedule import next_run
from connectors.sync import SyncOptions

log = logging.getLogger("connectors.service")


class ConnectorsService:
    """Serves ``connector_ids`` (None: every connector in the index): schedules their
    jobs, runs their pending ones, and gives their lost ones up. Jobs of any other
    connector are left alone, whoever runs them: another service, another deployment
    sharing the cluster, Elastic's framework, another test run."""

    def __init__(
        self,
        client: EsClient,
        poll_interval: float = 5.0,
        options: SyncOptions | None = None,
        connector_ids: frozenset[str] | None = None,
    ) -> None:
        self.client = client
        self.poll_interval = poll_interval
        self.options = options or SyncOptions()
        self.connector_ids = connector_ids
        self._stop = asyncio.Event()
        self._next: dict[tuple[str, str], dt.datetime] = {}

    def stop(self) -> None:
        if not self._stop.is_set():  # said once: it is what a supervisor waits to read
            log.info("stop requested: a running job stops at its next batch, suspended")
        self._stop.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.stop)
        await ensure_state_indices(self.client)
        serving = ", ".join(sorted(self.connector_ids)) if self.connector_ids else "all"
        log.info(
            "connectors service started (poll every %.1fs; connectors: %s)",
            self.poll_interval,
            serving,
        )
        while not self._stop.is_set():
            try:
                await self.tick()
            except Exception as exc:  # Elasticsearch away past the retry deadline, say
                log.error("service tick failed, retrying at the next one: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.poll_interval)
        log.info("connectors service stopped")

    async def tick(self) -> None:
        store = ConnectorStore(self.client)
        connectors = [c for c in await store.all() if self._serves(c.id)]
        for connector in connectors:
            try:
                await store.update(connector.id, {"last_seen": now()})
                await self._schedule(connector)
            except Exception as exc:  # one connector's problem stops nobody else's jobs
                reason = f"bad schedule, not scheduled: {type(exc).__name__}: {exc}"
                log.error("connector %s: %s", connector.id, reason)
                with contextlib.suppress(Exception):
                    await store.update(
                        connector.id, {"status": ConnectorStatus.ERROR, "error": reason}
                    )
        leases = self.options.leases
        swept = await reclaim_lost_jobs(
            self.client, lease_seconds=leases.lease_seconds, connector_ids=self.connector_ids
        )
        for lost in swept:
            log.warning("job %s given up for lost (no heartbeat)", lost)
        jobs = JobStore(self.client)
        runnable = await jobs.find(statuses=RUNNABLE, connector_ids=self.connector_ids)
        for job in sorted(runnable, key=lambda j: j.created_at or ""):
            if self._stop.is_set():
                return
            if not await self._connector_exists(job):
                continue
            grant = await claim_job(self.client, job, leases)
            if grant is not None:
                log.info(
                    "running %s sync job %s for %s",
                    job.job_type,
                    job.id,
                    job.connector.id,
                )
                status, _result, error = await run_job(
                    self.client, grant, self.options, stopping=self._stop.is_set
                )
                log.info("job %s: %s%s", job.id, status, f" ({error})" if error else "")

    def _serves(self, connector_id: str) -> bool:
        return self.connector_ids is None or connector_id in self.connector_ids

    async def _connector_exists(self, job: JobDoc) -> bool:
        """A job whose connector was deleted is ended, naming it: left pending, it would
        fail every tick and keep every later job waiting behind it."""
        connector_id = job.connector.id
        try:
            await ConnectorStore(self.client).get(connector_id)
        except LookupError:
            reason = f"its connector {connector_id!r} no longer exists"
            log.warning("job %s ended: %s", job.id, reason)
            await end_job(self.client, job.id, None, JobStatus.ERROR, reason)
            return False
        return True

    async def _schedule(self, connector: ConnectorDoc) -> None:
        scheduling = connector.scheduling
        current = dt.datetime.now(dt.UTC)
        for job_type in JobType:
            spec = scheduling.get(job_type) or {}
            if not spec.get("enabled"):
                continue
            key = (connector.id, job_type)
            due = self._next.setdefault(key, next_run(spec["interval"], current))
            if current >= due:
                await JobStore(self.client).create(connector, job_type, TriggerMethod.SCHEDULED)
                self._next[key] = next_run(spec["interval"], current)
