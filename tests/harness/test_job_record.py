"""The whole-record checks: each rule a slip in a job's bookkeeping would break."""

from harness.checks.job_record import connector_problems, job_problems

GOOD = {
    "status": "completed",
    "job_type": "full",
    "trigger_method": "on_demand",
    "error": None,
    "created_at": "2026-01-01T10:00:00+01:00",
    "started_at": "2026-01-01T09:00:01+00:00",
    "completed_at": "2026-01-01T09:00:05+00:00",
    "total_document_count": 7,
}


def test_a_sound_record_has_no_problem():
    assert job_problems(GOOD, 7) == []
    connector = {"last_sync_status": "completed", "last_synced": "2026-01-01T09:00:06+00:00"}
    assert connector_problems(connector, GOOD) == []


def test_each_slip_is_named():
    assert job_problems(GOOD | {"total_document_count": 5}, 7) == [
        "total_document_count is 5, the index holds 7"
    ]
    assert job_problems(GOOD | {"status": "error", "error": " "}, 7) == [
        "the job failed and its error field does not say why"
    ]
    assert job_problems(GOOD | {"completed_at": "2026-01-01T09:00:00"}, 7) == [
        "timestamps missing or without a zone offset: completed_at"
    ]
    late_start = job_problems(GOOD | {"started_at": "2026-01-01T09:00:09+00:00"}, 7)
    assert late_start[0].startswith("timestamps out of order")
    assert job_problems(GOOD | {"trigger_method": None}, 7)[0].startswith("trigger_method")
    stale = {"last_sync_status": "error", "last_synced": "2026-01-01T09:00:01+00:00"}
    assert len(connector_problems(stale, GOOD)) == 2
