"""Under xdist the controller starts the services once, workers share them in their own
namespaces, and nothing is left afterwards."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.helpers import running

pytestmark = pytest.mark.services
ROOT = Path(__file__).resolve().parents[2]


def service_pids(tmpdir: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if str(tmpdir) in (proc / "cmdline").read_text():
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


def test_two_workers_share_one_set_of_services(service_tmpdir):
    env = dict(os.environ, HARNESS_TMPDIR=str(service_tmpdir))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "2",
            "-p",
            "no:cacheprovider",
            "-q",
            "scenarios/postgres/test_postgresql.py",
            "--subject",
            "inprocess",
            "--corpus-size",
            "tiny",
            "--backend",
            "local",
            "-k",
            "test_full_sync or test_second_full_sync or test_updates or test_deletions "
            "or test_inserts",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "5 passed" in done.stdout
    # One Elasticsearch for the run, started by the controller: the summary lists it once.
    assert done.stdout.count("elasticsearch 9") + done.stdout.count("elasticsearch 8") == 1
    assert "scenario syncs" in done.stdout, "workers' syncs reach the controller's table"
    assert not [pid for pid in service_pids(service_tmpdir) if running(pid)]
    assert not list(service_tmpdir.glob("xdist-*.json"))
