"""Connector and sync-job state in Elasticsearch, with field names from Elastic's
connector protocol (``.elastic-connectors`` and ``.elastic-connectors-sync-jobs``)."""

from __future__ import annotations

import secrets
import socket
from typing import Any

from connectors import clock, defaults
from connectors.es.records import (
    CONNECTORS_INDEX,
    JOBS_INDEX,
    LIVE,
    RUNNABLE,
    ConnectorDoc,
    ConnectorFields,
    ConnectorStatus,
    JobConnector,
    JobDoc,
    JobFields,
    JobStatus,
    JobType,
    Lease,
    TriggerMethod,
)
from connectors.es.rest import ConflictError, EsClient, NotFoundError

__all__ = [  # the records' names are re-exported: the stores hand them out
    "CONNECTORS_INDEX",
    "JOBS_INDEX",
    "LIVE",
    "RUNNABLE",
    "ConnectorDoc",
    "ConnectorFields",
    "ConnectorStatus",
    "ConnectorStore",
    "JobConnector",
    "JobDoc",
    "JobFields",
    "JobStatus",
    "JobStore",
    "JobType",
    "Lease",
    "TriggerMethod",
    "ensure_state_indices",
    "new_job_id",
    "now",
]

PAGE = 500  # connectors read per search

_KEYWORDS = (
    "id",
    "status",
    "service_type",
    "index_name",
    "job_type",
    "trigger_method",
    "last_sync_status",
    "connector.id",
    "worker_hostname",
)


def new_job_id() -> str:
    """Hex, so that no id starts with '-' and reads as an option on a command line
    (Elasticsearch's own ids are base64url: about 1 in 64 did)."""
    return secrets.token_hex(10)


def now() -> str:
    return clock.iso()


def _mappings() -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for path in _KEYWORDS:
        head, _, rest = path.partition(".")
        if rest:
            properties.setdefault(head, {"properties": {}})["properties"][rest] = {
                "type": "keyword"
            }
        else:
            properties[head] = {"type": "keyword"}
    for name in ("created_at", "started_at", "completed_at", "last_seen", "canceled_at"):
        properties[name] = {"type": "date"}
    # Configuration values and cursors vary by source: stored, not indexed. So do what
    # Elastic's framework keeps beside them (filtering, pipeline, features), here or copied
    # into a job's ``connector``: both frameworks' documents fit one index.
    stored = {"type": "object", "enabled": False}
    for name in ("configuration", "filtering", "pipeline", "features", "custom_scheduling",
                 "basic_rules"):  # fmt: skip
        properties[name] = stored
        properties["connector"]["properties"][name] = stored
    properties["sync_cursor"] = {"type": "object", "enabled": False}
    # Intervals are seconds for one connector and cron text for the next: not indexed.
    properties["scheduling"] = {"type": "object", "enabled": False}
    properties["sync_lease"] = {"type": "object", "enabled": False}
    properties["metadata"] = {"type": "object", "enabled": False}
    return {"dynamic": True, "properties": properties}


async def ensure_state_indices(client: EsClient) -> None:
    for index in (CONNECTORS_INDEX, JOBS_INDEX):
        if not await client.indices.exists(index=index):
            try:
                await client.indices.create(
                    index=index,
                    mappings=_mappings(),
                    settings={"index.hidden": True, "number_of_replicas": 0},
                )
            except Exception as exc:
                if "resource_already_exists_exception" not in str(exc):
                    raise


class ConnectorStore:
    def __init__(self, client: EsClient) -> None:
        self.client = client

    async def save(self, doc: dict[str, Any]) -> None:
        await self.client.index(index=CONNECTORS_INDEX, id=doc["id"], document=doc, refresh=True)

    async def get(self, connector_id: str) -> ConnectorDoc:
        try:
            hit = await self.client.get(index=CONNECTORS_INDEX, id=connector_id)
        except NotFoundError:
            raise LookupError(f"no connector with id {connector_id!r}") from None
        return ConnectorDoc.from_source(hit["_source"], hit["_id"])

    async def update(self, connector_id: str, fields: ConnectorFields) -> None:
        await self.client.update(
            index=CONNECTORS_INDEX,
            id=connector_id,
            doc=fields,
            refresh=True,
            retry_on_conflict=defaults.STATE_RETRY_ON_CONFLICT,
        )

    async def all(self) -> list[ConnectorDoc]:
        """Every connector, page after page in id order (a service that saw only the
        first page would never schedule nor reclaim the others)."""
        if not await self.client.indices.exists(index=CONNECTORS_INDEX):
            return []
        found: list[ConnectorDoc] = []
        after: dict[str, Any] = {}
        while True:
            page = await self.client.search(index=CONNECTORS_INDEX, size=PAGE, sort=["id"], **after)
            hits = page["hits"]["hits"]
            found += [ConnectorDoc.from_source(hit["_source"], hit["_id"]) for hit in hits]
            if len(hits) < PAGE:
                return found
            after = {"search_after": hits[-1]["sort"]}


def carries_write(source: dict[str, Any], fields: JobFields) -> bool:
    """Whether a job document holds every field of a write, ``last_seen`` aside. The
    writes it judges carry a timestamp of their own (``started_at``, ``completed_at``) or
    a status and reason only this job's worker writes."""
    written = {key: value for key, value in fields.items() if key != "last_seen"}
    return _holds(source, written)


def _holds(found: Any, wanted: Any) -> bool:
    """A partial update merges objects into what was there, so an object written is held
    when each of its fields is; anything else must be equal."""
    if isinstance(wanted, dict):
        return isinstance(found, dict) and all(_holds(found.get(k), v) for k, v in wanted.items())
    return bool(found == wanted)


def _claimed() -> JobFields:
    return {
        "status": JobStatus.IN_PROGRESS,
        "started_at": now(),
        "last_seen": now(),
        "worker_hostname": socket.gethostname(),
    }


class JobStore:
    def __init__(self, client: EsClient) -> None:
        self.client = client

    async def create(
        self,
        connector: ConnectorDoc | JobConnector,
        job_type: JobType,
        trigger: TriggerMethod,
        job_id: str | None = None,
        claimed: bool = False,
    ) -> str:
        """A pending job, or with ``claimed`` one already in progress here (a one-shot sync
        that holds the connector's lease: no pending job is left for a service to run)."""
        doc: dict[str, Any] = {
            "connector": {
                "id": connector.id,
                "index_name": connector.index_name,
                "service_type": connector.service_type,
            },
            "job_type": job_type,
            "trigger_method": trigger,
            "status": JobStatus.PENDING,
            "created_at": now(),
            "last_seen": None,
            "error": None,
            "indexed_document_count": 0,
            "indexed_document_volume": 0,
            "deleted_document_count": 0,
            "total_document_count": 0,
            "metadata": {},
        }
        if claimed:
            doc |= _claimed()
        job_id = job_id or new_job_id()
        try:
            await self.client.create(index=JOBS_INDEX, id=job_id, document=doc, refresh=True)
        except ConflictError:
            # Ours if it landed and only its answer was lost (a timeout, then a retry that
            # found it): the same connector at the same created_at. Anyone else's, or an
            # id given twice, is still refused.
            hit = await self.client.get(index=JOBS_INDEX, id=job_id)
            if not _holds(hit["_source"], {k: doc[k] for k in ("connector", "created_at")}):
                raise
        return job_id

    async def get(self, job_id: str) -> JobDoc:
        try:
            hit = await self.client.get(index=JOBS_INDEX, id=job_id)
        except NotFoundError:
            raise LookupError(f"no sync job with id {job_id!r}") from None
        return JobDoc.from_hit(hit["_id"], hit["_source"])

    async def update(self, job_id: str, fields: JobFields, refresh: bool = True) -> None:
        await self.client.update(
            index=JOBS_INDEX,
            id=job_id,
            doc=fields,
            refresh=refresh,
            retry_on_conflict=defaults.STATE_RETRY_ON_CONFLICT,
        )

    async def update_if(
        self, job_id: str, fields: JobFields, expected: tuple[JobStatus, ...]
    ) -> JobDoc | None:
        """Write ``fields`` only while the job's status is one of ``expected``: None once
        written, else the job as it is (whoever changed its status meanwhile won). A
        conflict with a write that kept the status (a heartbeat) is written again.

        A conflict may also be this very write: it landed, its answer was lost (a
        timeout), and the retry conflicted with it. The job then carries every field
        written (but ``last_seen``, which our own heartbeat may have moved since), and
        that is our write, not someone else's: taking it for a rival's would strand a
        claimed job, or report a completed one as taken and skip its cursor."""
        conflicted = False
        for _ in range(defaults.STATE_RETRY_ON_CONFLICT):
            hit = await self.client.get(index=JOBS_INDEX, id=job_id)
            if conflicted and carries_write(hit["_source"], fields):
                return None
            if hit["_source"]["status"] not in expected:
                return JobDoc.from_hit(job_id, hit["_source"])
            try:
                await self.client.update(
                    index=JOBS_INDEX,
                    id=job_id,
                    if_seq_no=hit["_seq_no"],
                    if_primary_term=hit["_primary_term"],
                    doc=fields,
                    refresh=True,
                )
            except ConflictError:
                conflicted = True
                continue
            return None
        raise ConflictError(409, f"sync job {job_id} kept changing while its end was written")

    async def claim(self, job_id: str) -> bool:
        """Move a runnable job to in_progress unless another worker got it first."""
        return await self.update_if(job_id, _claimed(), RUNNABLE) is None

    async def find(
        self,
        connector_id: str | None = None,
        statuses: tuple[JobStatus, ...] = (),
        size: int = 50,
        *,
        connector_ids: frozenset[str] | None = None,
    ) -> list[JobDoc]:
        """The newest ``size`` jobs, of one connector, of ``connector_ids``, or of all."""
        if not await self.client.indices.exists(index=JOBS_INDEX):
            return []
        if connector_ids is not None and not connector_ids:
            return []
        filters: list[dict[str, Any]] = []
        if connector_id:
            filters.append({"term": {"connector.id": connector_id}})
        if connector_ids is not None:
            filters.append({"terms": {"connector.id": sorted(connector_ids)}})
        if statuses:
            filters.append({"terms": {"status": list(statuses)}})
        found = await self.client.search(
            index=JOBS_INDEX,
            size=size,
            query={"bool": {"filter": filters}},
            sort=[{"created_at": "desc"}],
        )
        return [JobDoc.from_hit(h["_id"], h["_source"]) for h in found["hits"]["hits"]]
