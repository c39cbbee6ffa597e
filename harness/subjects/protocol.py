"""What a subject is (the protocols the suite drives), what it is given (a connector
spec) and what it returns (a sync outcome), with the secrets of the spec redacted."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from typing import IO, Any, Protocol, runtime_checkable

from harness.services.es_http import ElasticsearchEndpoint
from harness.subjects.result_protocol import parse_result


@dataclass
class ConnectorSpec:
    id: str
    service_type: str
    index_name: str
    configuration: dict[str, Any] = field(repr=False)
    basic_rules: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        spec = {
            "id": self.id,
            "service_type": self.service_type,
            "index_name": self.index_name,
            "configuration": self.configuration,
        }
        return spec | ({"basic_rules": self.basic_rules} if self.basic_rules else {})


@dataclass
class SyncOutcome:
    ok: bool
    status: str
    error: str | None
    counts: dict[str, Any]
    seconds: float
    reported: bool = False  # the counts come from the subject result protocol
    # Everything the subject printed, unmasked: for secret-leak checks only, never shown.
    raw: str = field(default="", repr=False)
    exit_code: int | None = None  # of the subject's command, where it is one

    @property
    def docs(self) -> int:
        return int(self.counts.get("seen", 0))


SERVICE_POLL_SECONDS = 0.2


class SubjectUnavailable(RuntimeError):
    """The subject cannot run here (what it needs is not installed): scenarios skip, saying
    why."""


class SyncSubject(Protocol):
    name: str
    records_jobs: bool  # writes .elastic-connectors-sync-jobs, so job records can be checked
    endpoint: ElasticsearchEndpoint
    # Extra environment for the sync (CONNECTORS_ES_REQUEST_TIMEOUT=..., ...): fault
    # scenarios tune timeouts through it.
    env: dict[str, str]

    def sync(
        self, spec: ConnectorSpec, mode: str = "full", allow_mass_delete: bool = False
    ) -> SyncOutcome: ...


@runtime_checkable
class ProcessSubject(SyncSubject, Protocol):
    """A subject whose sync is a process of its own, which a scenario can kill."""

    def start(self, spec: ConnectorSpec, log: IO[str], mode: str = "full") -> subprocess.Popen[str]:
        """The sync, started and not waited for."""
        ...


@runtime_checkable
class ServiceSubject(ProcessSubject, Protocol):
    """A subject with a long-running service that runs pending jobs."""

    def start_service(self, spec: ConnectorSpec, log: IO[str]) -> subprocess.Popen[str]:
        """The service, for the connector ``spec`` (saved first), started."""
        ...

    def queue_job(self, spec: ConnectorSpec, job_id: str) -> None:
        """A pending full sync of ``spec``, written as Kibana writes one, for the
        service to pick up."""
        ...


def redact(text: str, spec: ConnectorSpec) -> str:
    for key, value in spec.configuration.items():
        if "password" in key and isinstance(value, str) and value:
            text = text.replace(value, "***")
    return text


def outcome_of(
    done: subprocess.CompletedProcess[str], spec: ConnectorSpec, seconds: float
) -> SyncOutcome:
    """What a sync command said: its result line (harness/subjects/result_protocol.py) if it
    printed one, else only its exit code and stderr."""
    result = parse_result(done.stdout)
    stderr = done.stderr.strip() or None
    raw = done.stdout + done.stderr
    if result is None:
        status = "completed" if done.returncode == 0 else "error"
        error = redact_optional(stderr, spec)
        return SyncOutcome(done.returncode == 0, status, error, {}, seconds, raw=raw)
    error = result.get("error") or stderr
    ok = done.returncode == 0 and result["status"] == "completed"
    return SyncOutcome(
        ok, result["status"], redact_optional(error, spec), result, seconds, True, raw
    )


def redact_optional(text: str | None, spec: ConnectorSpec) -> str | None:
    return redact(text, spec) if text else None
