"""The ``inprocess`` subject: the runtime's public API in this process (fast)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time

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
        return asyncio.run(self._sync(spec, mode, allow_mass_delete))

    async def _sync(self, spec: ConnectorSpec, mode: str, allow_mass_delete: bool) -> SyncOutcome:
        from connectors.api import save_connector, sync_connector
        from connectors.es.bulk_transport import HttpBulkTransport
        from connectors.es.client import es_client
        from connectors.es.state import JobType
        from connectors.settings import RuntimeSettings

        started = time.perf_counter()
        # What a `connectors` process started with this environment would read: the
        # settings are passed down, this process's own environment is left alone.
        runtime = RuntimeSettings.from_env({**os.environ, **self.env}, self.endpoint.url)
        auth = self.endpoint.basic_auth()
        es = dataclasses.replace(
            runtime.es,
            username=auth[0] if auth else None,
            password=auth[1] if auth else None,
        )
        runtime = dataclasses.replace(runtime, es=es)
        client = es_client(es)
        transport = HttpBulkTransport(es)  # the CLI's path, in this process
        try:
            try:
                await save_connector(client, spec.to_dict())
            except ValueError as exc:  # ConfigError, ConnectorSpecError
                seconds = time.perf_counter() - started
                return SyncOutcome(
                    False, "refused", redact(str(exc), spec), {}, seconds, raw=str(exc)
                )
            options = runtime.sync_options(
                allow_mass_delete=allow_mass_delete, bulk_transport=transport
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
