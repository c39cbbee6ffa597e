"""The state documents, typed: a connector, a sync job and a connector's lease, with the
field names of Elastic's connector protocol (as Elastic's own framework types its
``Connector`` and ``SyncJob`` documents).

Reads are frozen dataclasses built from ``_source``, so a misspelt field is a type error,
not a ``KeyError`` at run time. Writes are partial updates (several workers write the same
documents, and each writes only what it owns), typed by ``ConnectorFields`` and
``JobFields``: mypy checks every key at every call site. Parsing is lenient about what it
does not read, because Elastic's framework writes into the same indices."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypedDict

from connectors import clock

CONNECTORS_INDEX = ".elastic-connectors"
JOBS_INDEX = ".elastic-connectors-sync-jobs"
LEASE_FIELD = "sync_lease"


class JobStatus(StrEnum):
    """A sync job's status, as Elastic's connector protocol spells it."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    CANCELING = "canceling"
    SUSPENDED = "suspended"  # the worker stopped mid-job; the next one resumes it
    COMPLETED = "completed"
    ERROR = "error"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.ERROR, JobStatus.CANCELED)


class JobType(StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"
    ACCESS_CONTROL = "access_control"  # identities into .search-acl-filter-<index>


class TriggerMethod(StrEnum):
    ON_DEMAND = "on_demand"
    SCHEDULED = "scheduled"


class ConnectorStatus(StrEnum):
    """A connector's own status (Elastic's framework also writes ``created`` and
    ``needs_configuration``; this runtime saves configured connectors only)."""

    CREATED = "created"
    NEEDS_CONFIGURATION = "needs_configuration"
    CONFIGURED = "configured"
    CONNECTED = "connected"
    ERROR = "error"


RUNNABLE = (JobStatus.PENDING, JobStatus.SUSPENDED)
LIVE = (JobStatus.IN_PROGRESS, JobStatus.CANCELING)


@dataclass(frozen=True)
class Lease:
    """One sync per connector: who holds the connector now, and until when."""

    job_id: str
    token: str
    worker: str
    acquired_at: str
    expires_at: float

    @classmethod
    def from_source(cls, source: object) -> Lease | None:
        if not isinstance(source, Mapping) or not source:
            return None
        return cls(
            job_id=str(source["job_id"]),
            token=str(source.get("token", "")),
            worker=str(source.get("worker", "?")),
            acquired_at=str(source.get("acquired_at", "?")),
            expires_at=float(source["expires_at"]),
        )

    @property
    def is_live(self) -> bool:
        return self.expires_at > clock.seconds()

    def to_source(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "token": self.token,
            "worker": self.worker,
            "acquired_at": self.acquired_at,
            "expires_at": self.expires_at,
        }


def _status_of(value: object) -> ConnectorStatus | str | None:
    if value is None:
        return None
    try:
        return ConnectorStatus(str(value))
    except ValueError:  # another framework's status: kept as it is written
        return str(value)


def _job_status_of(value: object) -> JobStatus | None:
    return None if value is None else JobStatus(str(value))


@dataclass(frozen=True)
class ConnectorDoc:
    """A connector document as this runtime reads it."""

    id: str
    service_type: str
    index_name: str
    configuration: Mapping[str, Any] = field(default_factory=dict)
    scheduling: Mapping[str, Any] = field(default_factory=dict)
    basic_rules: tuple[Mapping[str, Any], ...] = ()
    status: ConnectorStatus | str | None = None
    error: str | None = None
    sync_cursor: Any = None
    last_sync_status: JobStatus | None = None
    last_sync_error: str | None = None
    last_synced: str | None = None
    last_seen: str | None = None
    sync_lease: Lease | None = None

    @classmethod
    def from_source(cls, source: Mapping[str, Any], doc_id: str | None = None) -> ConnectorDoc:
        """``doc_id``: the document's ``_id``, which Elastic's framework does not repeat in
        ``_source`` (this runtime does)."""
        return cls(
            id=str(doc_id if doc_id is not None else source["id"]),
            service_type=str(source.get("service_type")),
            index_name=str(source.get("index_name")),
            configuration=source.get("configuration") or {},
            scheduling=source.get("scheduling") or {},
            basic_rules=tuple(source.get("basic_rules") or ()),
            status=_status_of(source.get("status")),
            error=source.get("error"),
            sync_cursor=source.get("sync_cursor"),
            last_sync_status=_job_status_of(source.get("last_sync_status")),
            last_sync_error=source.get("last_sync_error"),
            last_synced=source.get("last_synced"),
            last_seen=source.get("last_seen"),
            sync_lease=Lease.from_source(source.get(LEASE_FIELD)),
        )

    def configuration_values(self) -> dict[str, Any]:
        """Connector documents keep Elastic's shape: {field: {"value": ..., ...}}."""
        return {
            name: (entry.get("value") if isinstance(entry, Mapping) else entry)
            for name, entry in self.configuration.items()
        }


@dataclass(frozen=True)
class JobConnector:
    """What a job keeps of its connector: enough to list it and find its index."""

    id: str
    index_name: str
    service_type: str


@dataclass(frozen=True)
class JobDoc:
    """A sync job record as this runtime reads it."""

    id: str
    connector: JobConnector
    job_type: JobType
    trigger_method: str
    status: JobStatus
    created_at: str | None = None
    started_at: str | None = None
    last_seen: str | None = None
    completed_at: str | None = None
    canceled_at: str | None = None
    error: str | None = None
    worker_hostname: str | None = None
    indexed_document_count: int = 0
    indexed_document_volume: int = 0
    deleted_document_count: int = 0
    total_document_count: int = 0
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_hit(cls, job_id: str, source: Mapping[str, Any]) -> JobDoc:
        connector = source.get("connector") or {}
        return cls(
            id=job_id,
            connector=JobConnector(
                id=str(connector.get("id")),
                index_name=str(connector.get("index_name")),
                service_type=str(connector.get("service_type")),
            ),
            job_type=JobType(source.get("job_type", JobType.FULL)),
            trigger_method=str(source.get("trigger_method")),
            status=JobStatus(source["status"]),
            created_at=source.get("created_at"),
            started_at=source.get("started_at"),
            last_seen=source.get("last_seen"),
            completed_at=source.get("completed_at"),
            canceled_at=source.get("canceled_at"),
            error=source.get("error"),
            worker_hostname=source.get("worker_hostname"),
            indexed_document_count=int(source.get("indexed_document_count") or 0),
            indexed_document_volume=int(source.get("indexed_document_volume") or 0),
            deleted_document_count=int(source.get("deleted_document_count") or 0),
            total_document_count=int(source.get("total_document_count") or 0),
            metadata=source.get("metadata") or {},
        )


class ConnectorFields(TypedDict, total=False):
    """The part of a connector document one write changes."""

    status: ConnectorStatus
    error: str | None
    last_seen: str
    last_sync_status: JobStatus
    last_sync_error: str | None
    last_synced: str
    sync_cursor: Any
    sync_lease: dict[str, Any] | None
    scheduling: dict[str, Any]


class JobFields(TypedDict, total=False):
    """The part of a job record one write changes."""

    status: JobStatus
    error: str | None
    started_at: str
    last_seen: str
    completed_at: str
    canceled_at: str
    worker_hostname: str
    indexed_document_count: int
    indexed_document_volume: int
    deleted_document_count: int
    total_document_count: int
    metadata: dict[str, Any]
