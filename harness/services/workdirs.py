"""Per-service temp dirs, and removal of the ones left behind by killed runs.

Every work dir lives under one base dir and records the pid (and start time) of the
process whose life it belongs to. A dir whose owner is gone is stale.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness.atomic import write_atomic
from harness.environment import HarnessEnvironment
from harness.services.ports import release_ports

OWNER_FILE = "owner.json"
ORPHAN_AGE_SECONDS = 3600


def base_dir() -> Path:
    # Empty counts as unset, and a relative path is made absolute: servers resolve their
    # data dirs from their own working directory.
    given = HarnessEnvironment.current().tmpdir
    root = (given or Path(tempfile.gettempdir()) / "search-harness").absolute()
    root.mkdir(parents=True, exist_ok=True)
    if root.stat().st_uid == os.geteuid():
        os.chmod(root, 0o755)  # services run as another user when we are root
    return root


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid``, so a recycled pid is not mistaken for its owner."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22 (starttime) comes after the parenthesised command name, which may hold spaces.
    return stat.rsplit(")", 1)[1].split()[19]


def process_alive(pid: int, start_time: str | None = None) -> bool:
    """A zombie is dead: a reaper that sweeps the moment its owner exits must not wait for
    the owner's parent to collect it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    if fields[0] in ("Z", "X"):
        return False
    return start_time is None or fields[19] == start_time


@dataclass
class Workdir:
    path: Path
    watched: bool = True

    @classmethod
    def create(cls, service: str, *, watched: bool = True) -> Workdir:
        """A fresh dir owned by this process; ``watched`` ones are removed by the reaper
        if this process dies without tearing down."""
        path = Path(tempfile.mkdtemp(prefix=f"{service}-", dir=base_dir()))
        workdir = cls(path, watched)
        workdir.set_owner(os.getpid())
        if watched:
            from harness.services.reaper import Reaper

            Reaper.get().track_dir(str(path))
        return workdir

    def set_owner(self, pid: int) -> None:
        record = {"pid": pid, "start_time": process_start_time(pid)}
        write_atomic(self.path / OWNER_FILE, json.dumps(record))

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        release_ports(self.path)
        if self.watched:
            from harness.services.reaper import Reaper

            Reaper.get().untrack_dir(str(self.path))


def is_stale(path: Path) -> bool:
    try:
        record = json.loads((path / OWNER_FILE).read_text())
    except (OSError, ValueError):
        # No owner yet: being created right now, unless it has been like that for an hour.
        try:
            return time.time() - path.stat().st_mtime > ORPHAN_AGE_SECONDS
        except OSError:
            return False
    return not process_alive(int(record["pid"]), record.get("start_time"))


def clean_stale() -> list[Path]:
    """Remove work dirs whose owner died (a killed run); return what was removed. A server
    still running in one (its owner and the owner's reaper were both killed) is stopped
    first, not left running on a deleted dir."""
    from harness.services.reaper import kill_group

    removed = []
    for entry in base_dir().iterdir():
        if entry.is_dir() and is_stale(entry):
            for group in sorted({os.getpgid(pid) for pid in processes_using(entry)}):
                if group != os.getpgrp():
                    kill_group(group)
            shutil.rmtree(entry, ignore_errors=True)
            release_ports(entry)
            removed.append(entry)
    return removed


def processes_using(path: Path) -> list[int]:
    """Processes whose working directory or command line is in ``path``: a service run
    there. Found by what they use, not by a recorded id that may have been recycled."""
    root = str(path.resolve())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cwd == root or cwd.startswith(root + "/") or root + "/" in cmdline:
            found.append(int(entry.name))
    return found
