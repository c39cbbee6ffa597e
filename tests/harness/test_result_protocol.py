"""Command subjects get full checks through the result protocol: a command that speaks
it passes the standard scenarios with their job checks; one that misreports its counts
fails them, naming the count."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.subjects.result_protocol import as_job_record, parse_result
from tests.harness.helpers import private_service_state

ROOT = Path(__file__).resolve().parents[2]
COMMAND = (
    f"command:{sys.executable} tests/harness/protocol_command.py {{es_url}} {{config}} {{mode}}"
)
SCENARIOS = "test_full_sync or test_updates or test_unreachable_source_fails_clearly"


def test_the_last_result_line_counts_and_other_output_is_ignored():
    out = "\n".join(
        [
            "starting",
            '{"not": "a result"}',
            '{"status": "error", "error": "x"}',
            '{"status": "completed", "indexed": 3}',
            "bye",
        ]
    )
    assert parse_result(out) == {"status": "completed", "indexed": 3}
    assert parse_result("no result here\n{broken json\n") is None
    record = as_job_record({"status": "completed", "indexed": 3, "deleted": 1}, "full", 7)
    assert record == {
        "status": "completed",
        "job_type": "full",
        "error": None,
        "total_document_count": 7,
        "indexed_document_count": 3,
        "deleted_document_count": 1,
    }


def run_scenarios(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    pytest_args = ["-q", "-p", "no:cacheprovider", "--backend", "local", "--reuse-services"]
    scenario_args = ["--corpus-size", "tiny", "--subject", COMMAND, "-k", SCENARIOS]
    suite = [sys.executable, "-m", "pytest", "scenarios/postgres/test_postgresql.py"]
    return subprocess.run(
        [*suite, *pytest_args, *scenario_args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.services
def test_a_command_speaking_the_protocol_gets_job_checks(tmp_path):
    with private_service_state(tmp_path) as env:
        honest = run_scenarios(env)
        assert honest.returncode == 0, (honest.stdout + honest.stderr)[-3000:]
        assert "3 passed" in honest.stdout
        lying = run_scenarios(env | {"PROTOCOL_MISREPORT": "1"})
    output = lying.stdout + lying.stderr
    assert lying.returncode == 1, output[-3000:]
    assert "the result command reported: indexed_document_count is 258, expected 257" in output
