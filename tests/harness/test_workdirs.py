import json
import os
import subprocess
import sys

from harness.services import workdirs
from harness.services.workdirs import Workdir, clean_stale, is_stale


def test_workdirs_of_dead_owners_are_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_TMPDIR", str(tmp_path))
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = tmp_path / "postgresql-dead"
    stale.mkdir()
    (stale / "owner.json").write_text(json.dumps({"pid": int(dead.stdout), "start_time": None}))
    live = Workdir.create("elasticsearch", watched=False)
    assert clean_stale() == [stale]
    assert not stale.exists()
    assert live.path.exists()


def test_a_recycled_pid_does_not_keep_a_dir_alive(tmp_path):
    (tmp_path / "owner.json").write_text(json.dumps({"pid": os.getpid(), "start_time": "1"}))
    assert is_stale(tmp_path)


def test_a_dir_without_owner_is_stale_only_when_old(tmp_path, monkeypatch):
    assert not is_stale(tmp_path)
    monkeypatch.setattr(workdirs, "ORPHAN_AGE_SECONDS", -1)
    assert is_stale(tmp_path)
