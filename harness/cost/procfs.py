"""One pass over ``/proc``: each process's parent, start time and CPU ticks.

Read raw rather than through psutil: the meter needs four numbers per process, and a pass
must stay cheap enough (a few milliseconds) not to weigh on the run it measures.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcessSample:
    pid: int
    ppid: int
    started: int  # clock ticks after boot: with the pid, one process even if pids are reused
    own: int  # user + system ticks of the process itself, all its threads
    reaped: int  # user + system ticks of the children it has waited for

    @property
    def key(self) -> tuple[int, int]:
        return (self.pid, self.started)


def parse_stat(pid: int, text: str) -> ProcessSample:
    """A ``/proc/PID/stat`` line. The command name may hold spaces and parentheses, so the
    fields are counted from its *last* closing parenthesis (proc(5))."""
    fields = text[text.rindex(")") + 2 :].split()
    # after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    # utime stime cutime cstime priority nice threads itrealvalue starttime
    return ProcessSample(
        pid=pid,
        ppid=int(fields[1]),
        started=int(fields[19]),
        own=int(fields[11]) + int(fields[12]),
        reaped=int(fields[13]) + int(fields[14]),
    )


def snapshot(proc: Path = Path("/proc")) -> dict[int, ProcessSample]:
    samples: dict[int, ProcessSample] = {}
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"{entry.path}/stat", encoding="utf-8", errors="replace") as handle:
                samples[int(entry.name)] = parse_stat(int(entry.name), handle.read())
        except (OSError, ValueError, IndexError):
            continue  # gone between the listing and the read
    return samples


def command_line(pid: int, proc: Path = Path("/proc")) -> list[str]:
    try:
        raw = (proc / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def process_name(pid: int, proc: Path = Path("/proc")) -> str:
    try:
        return (proc / str(pid) / "comm").read_text().strip()
    except OSError:
        return "?"
