"""The ``inprocess`` subject: the runtime's public API in this process (fast)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from harness.services.es_http import ElasticsearchEndpoint
from harness.subjects.protocol import ConnectorSpec, SyncOutcome, redact


class InProcessSubject:
    name = "inprocess"
    records_jobs = True

    def __init__(self, endpoint: ElasticsearchEndpoint) -> None:
        self.endpoint = endpoint
        self.env: dict[str, str] = {}

    def sync(
        self, spec: ConnectorSpec, mode: str = "full", allow_mass_delete: bool = False
    ) -> SyncOutcome:
        with _environ(self.env):
            return asyncio.run(self._sync(spec, mode, allow_mass_delete))

    async def _sync(self, spec: ConnectorSpec, mode: str, allow_mass_delete: bool) -> SyncOutcome:
        from connectors.api import save_connector, sync_connector
        from connectors.es.bulk_transport import HttpBulkTransport
        from connectors.es.client import EsSettings, es_client
        from connectors.es.state import JobType
        from connectors.sync import SyncOptions

        started = time.perf_counter()
        auth = self.endpoint.basic_auth()
        settings = dataclasses.replace(
            EsSettings.from_env(self.endpoint.url), username=None, password=None
        )
        if auth:
            settings = dataclasses.replace(settings, username=auth[0], password=auth[1])
        client = es_client(settings)
        transport = HttpBulkTransport(settings)  # the CLI's path, in this process
        try:
            try:
                await save_connector(client, spec.to_dict())
            except ValueError as exc:  # ConfigError, ConnectorSpecError
                seconds = time.perf_counter() - started
                return SyncOutcome(
                    False, "refused", redact(str(exc), spec), {}, seconds, raw=str(exc)
                )
            options = SyncOptions.from_env(
                allow_mass_delete=allow_mass_delete,
                bulk_transport=transport,
                bulk_retry_seconds=settings.retry_deadline,
            )
            outcome = await sync_connector(client, spec.id, JobType(mode), options)
        finally:
            await transport.close()
            await client.close()
        result = outcome.result
        counts = (
            {}
            if result is None
            else {
                "seen": result.seen,
                "indexed": result.indexed,
                "unchanged": result.unchanged,
                "deleted": result.deleted,
                "failed": result.failed,
                "bulk_retries": result.retries,
            }
        )
        return SyncOutcome(
            outcome.status == "completed",
            outcome.status,
            outcome.error and redact(outcome.error, spec),
            counts,
            time.perf_counter() - started,
            raw=outcome.error or "",
        )


@contextmanager
def _environ(extra: dict[str, str]) -> Iterator[None]:
    """In-process subjects read their settings from this process's environment."""
    saved = {key: os.environ.get(key) for key in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
