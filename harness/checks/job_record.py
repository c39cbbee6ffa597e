"""The whole job record, not only its status and counts: what the connector protocol says a
finished job holds, and what the connector document must say after it. Checked on every
``assert_job`` of a subject that keeps jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any

TRIGGERS = ("on_demand", "scheduled")
JOB_TYPES = ("full", "incremental", "access_control")
FINISHED = ("completed", "error", "canceled")


def _when(record: dict[str, Any], field: str) -> dt.datetime | None:
    value = record.get(field)
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None  # a time without its offset is a problem too


def job_problems(job: dict[str, Any], index_count: int) -> list[str]:
    """What is wrong with a finished job's record; ``index_count`` is what the index holds."""
    problems = []
    status = job.get("status")
    if job.get("trigger_method") not in TRIGGERS:
        problems.append(f"trigger_method is {job.get('trigger_method')!r}, not one of {TRIGGERS}")
    if job.get("job_type") not in JOB_TYPES:
        problems.append(f"job_type is {job.get('job_type')!r}, not one of {JOB_TYPES}")
    if status == "error" and not (job.get("error") or "").strip():
        problems.append("the job failed and its error field does not say why")
    if status == "completed" and job.get("error"):
        problems.append(f"the job completed with an error recorded: {job.get('error')!r}")
    ended = "canceled_at" if status == "canceled" else "completed_at"
    times = [(name, _when(job, name)) for name in ("created_at", "started_at", ended)]
    missing = [name for name, when in times if when is None]
    if missing:
        problems.append(f"timestamps missing or without a zone offset: {', '.join(missing)}")
    else:
        order = [when for _, when in times]
        if order != sorted(order):  # type: ignore[type-var]
            shown = ", ".join(f"{name}={job.get(name)}" for name, _ in times)
            problems.append(f"timestamps out of order: {shown}")
    total = job.get("total_document_count")
    if status == "completed" and total != index_count:
        problems.append(f"total_document_count is {total}, the index holds {index_count}")
    return problems


def connector_problems(connector: dict[str, Any], job: dict[str, Any]) -> list[str]:
    """The connector document follows its last finished job."""
    problems = []
    if connector.get("last_sync_status") != job.get("status"):
        problems.append(
            f"the connector's last_sync_status is {connector.get('last_sync_status')!r}, "
            f"its last job is {job.get('status')!r}"
        )
    synced, ended = _when(connector, "last_synced"), _when(job, "completed_at")
    if synced is None or (ended is not None and synced < ended):
        problems.append(
            f"the connector's last_synced ({connector.get('last_synced')}) is missing or "
            f"before its last job ended ({job.get('completed_at')})"
        )
    return problems
