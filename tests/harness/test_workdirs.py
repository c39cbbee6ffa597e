import json
import os
import subprocess
import sys
import time

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


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_a_server_left_running_in_a_stale_dir_is_stopped_before_the_dir_goes(tmp_path, monkeypatch):
    """Its owner and the owner's reaper were both killed: the next start stops it."""
    monkeypatch.setenv("HARNESS_TMPDIR", str(tmp_path))
    stale = tmp_path / "elasticsearch-orphan"
    stale.mkdir()
    (stale / "owner.json").write_text(json.dumps({"pid": _dead_pid(), "start_time": None}))
    orphan = subprocess.Popen(["sleep", "300"], cwd=stale, start_new_session=True)
    try:
        assert clean_stale() == [stale]
        assert orphan.wait(timeout=30) is not None
        assert not stale.exists()
    finally:
        if orphan.poll() is None:
            orphan.kill()


def test_a_recorded_group_id_now_used_by_another_process_is_left_alone(tmp_path):
    from harness.services.reuse import discard

    workdir = tmp_path / "postgresql-gone"
    workdir.mkdir()
    stranger = subprocess.Popen(["sleep", "300"], start_new_session=True)  # not in workdir
    try:
        for started in ("1", None):  # a recycled id; a record from before start times
            discard(
                "postgresql", {"pgid": stranger.pid, "workdir": str(workdir), "started": started}
            )
            assert stranger.poll() is None, "an unrelated process group was killed"
        assert not workdir.exists()
    finally:
        stranger.kill()
        stranger.wait()


def test_an_owner_that_exited_is_dead_before_its_parent_collects_it(tmp_path):
    """A reaper sweeps the moment its owner exits; the owner's parent (here: us) may not
    have collected it yet. A zombie owning a dir kept the dir and its services alive."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    start_time = workdirs.process_start_time(child.pid)
    deadline = time.monotonic() + 60
    while not _is_zombie(child.pid):
        assert time.monotonic() < deadline, "the child did not exit"
        time.sleep(0.05)
    try:
        assert not workdirs.process_alive(child.pid, start_time)
        owned = Workdir(tmp_path / "service", watched=False)
        owned.path.mkdir()
        owned.set_owner(child.pid)
        assert is_stale(owned.path)
    finally:
        child.wait()


def _is_zombie(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
