"""The subject result protocol: how any sync command tells the harness what happened, so
the job checks and the end-of-run table work for programs that keep no connector state.

The command prints, as a line of its stdout, one JSON object with at least ``status``:

    {"status": "completed", "job_type": "full", "seen": 10007, "indexed": 10007,
     "deleted": 0, "failed": 0, "error": null}

``status`` is ``completed``, ``error`` or ``canceled``; the exit code is 0 only for
``completed``. ``error`` says what failed and where (it is what error-message checks
read; stderr is used when it is absent). The counts are of this sync only. The last such
line counts; other output is ignored. ``connectors sync`` speaks it. See
docs/subject-protocol.md.
"""

from __future__ import annotations

import json
from typing import Any

# Reported name -> the connector protocol's job-record field it stands for.
COUNTS = {
    "indexed": "indexed_document_count",
    "deleted": "deleted_document_count",
}


def parse_result(stdout: str) -> dict[str, Any] | None:
    """The last line of ``stdout`` that is a JSON object with a ``status``."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if not (line.startswith("{") and line.endswith("}")):
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and isinstance(value.get("status"), str):
            return value
    return None


def as_job_record(result: dict[str, Any], mode: str, total: int) -> dict[str, Any]:
    """A reported result in the shape of a sync-job record, for the same checks."""
    record: dict[str, Any] = {
        "status": result["status"],
        "job_type": result.get("job_type", mode),
        "error": result.get("error"),
        "total_document_count": total,
    }
    for reported, field in COUNTS.items():
        if reported in result:
            record[field] = result[reported]
    return record
