"""Run a command and count the CPU its whole process tree used, per group.

Two sources, one check:

* **the total** is exact: this process becomes a *child subreaper* (prctl(2)), so every
  descendant, even one whose parent died or that detached into a session of its own,
  is reaped here or by an ancestor that was, and ``RUSAGE_CHILDREN`` counts it;
* **the split** samples ``/proc`` every ``interval`` seconds. A process's last sample
  misses its last moments, and one that lives less than an interval is never seen; both
  show up in its parent's ``cutime`` when it is reaped. That excess, over what the
  vanished children were last seen with, is given to their group (or the parent's, if
  none was seen), so the groups add up to the total within a tick per process.
"""

from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from harness.cost.groups import PYTEST, group_of
from harness.cost.procfs import (
    TICKS_PER_SECOND,
    ProcessSample,
    command_line,
    process_name,
    snapshot,
)

PR_SET_CHILD_SUBREAPER = 36
ReaperKey = tuple[int, int]  # a process's (pid, start), or ROOT for this process
ROOT: ReaperKey = (0, 0)


@dataclass
class CostReport:
    argv: list[str]
    exit_code: int
    wall_seconds: float
    total_seconds: float  # from the kernel: every reaped descendant
    groups: dict[str, float] = field(default_factory=dict)
    processes: dict[str, int] = field(default_factory=dict)
    meter_seconds: float = 0.0  # the sampler's own CPU, not in the total

    @property
    def attributed_seconds(self) -> float:
        return sum(self.groups.values())


class _Ledger:
    """Ticks per group, from successive snapshots of this process's descendants."""

    def __init__(self, root: int, top: int) -> None:
        self.root = root  # this process: parent of the command and of every orphan
        self.top = top  # the command itself: counted as pytest when it is one
        self.ticks: defaultdict[str, float] = defaultdict(float)
        self.processes: Counter[str] = Counter()
        self._seen: dict[tuple[int, int], ProcessSample] = {}
        self._group: dict[tuple[int, int], str] = {}
        self._root_reaped = 0
        # Reaped ticks not yet matched with children seen gone, per reaper. The two are read
        # at different moments: a child may be seen alive after its parent (or this
        # process) already reaped it, or seen gone before its parent's sample shows it
        # reaped. Matching pass by pass counted such a child twice, under load (1.25 s of
        # 1.9 once), so the difference is carried until it is explained or the run ends.
        self._balance: defaultdict[ReaperKey, int] = defaultdict(int)
        self._recent: dict[ReaperKey, list[ProcessSample]] = {}

    def _group_for(self, sample: ProcessSample) -> str:
        if sample.key not in self._group:
            group = group_of(process_name(sample.pid), command_line(sample.pid))
            if sample.pid == self.top and group.startswith("other"):
                group = PYTEST
            self._group[sample.key] = group
            self.processes[group] += 1
        return self._group[sample.key]

    def take(self, samples: Mapping[int, ProcessSample], root_reaped: int) -> None:
        now = {s.key: s for s in _descendants(samples, self.root)}
        for key, sample in now.items():
            before = self._seen.get(key)
            self.ticks[self._group_for(sample)] += sample.own - (before.own if before else 0)
            if before is None:  # children it reaped before its first sample: never seen
                self._balance[key] += sample.reaped
        vanished: dict[int, list[ProcessSample]] = {}
        for key, sample in self._seen.items():
            if key not in now:
                vanished.setdefault(sample.ppid, []).append(sample)
        # Every reaper (this process, and each descendant seen twice): what it reaped since
        # the last pass, against what its vanished children were last seen with.
        reapers: dict[int, tuple[ReaperKey, int, str]] = {
            self.root: (ROOT, root_reaped - self._root_reaped, "unseen")
        }
        for key, sample in now.items():
            if (before := self._seen.get(key)) is not None:
                reapers[sample.pid] = (key, sample.reaped - before.reaped, self._group[key])
        for pid, (key, grown, group) in reapers.items():
            children = vanished.get(pid, [])
            self._balance[key] += grown - sum(c.own + c.reaped for c in children)
            if children:
                self._recent[key] = children
            if self._balance[key] > 0 and key in self._recent:
                self._settle(key, group)
        gone = [s for group in vanished.values() for s in group]
        alive = {s.pid: s.key for s in now.values()} | {s.pid: s.key for s in gone}
        while gone:  # children before their parents: a debt climbs to the nearest survivor
            parents = {s.ppid for s in gone}
            leaves = [s for s in gone if s.pid not in parents] or gone  # (a reused pid)
            for sample in leaves:
                self._retire(sample, alive.get(sample.ppid, ROOT))
            gone = [s for s in gone if s not in leaves]
        self._root_reaped = root_reaped
        self._seen = now

    def close(self) -> None:
        """After the last pass: what is still held was reaped and never seen."""
        for key in list(self._balance):
            if self._balance[key] > 0:
                group = "unseen" if key == ROOT else self._group[key]
                self._settle(key, group)

    def _settle(self, key: ReaperKey, group: str) -> None:
        """Give a reaper's positive balance (its children's last moments, or children that
        lived and died between two passes) to its recently vanished children's groups, in
        proportion to what each was seen with, or to its short-lived children."""
        unseen, children = self._balance.pop(key), self._recent.pop(key, [])
        if not children:
            self.ticks[f"{group}: short-lived children"] += unseen
            return
        weights = [max(1, c.own + c.reaped) for c in children]
        for child, weight in zip(children, weights, strict=True):
            self.ticks[self._group[child.key]] += unseen * weight / sum(weights)

    def _retire(self, sample: ProcessSample, parent: ReaperKey) -> None:
        """A vanished reaper's balance. Held positive: its own short-lived children, given
        now. Negative (children seen gone that its last sample had not reaped yet): its
        parent reaps those ticks with it, beyond what it was last seen with, so the debt
        passes to the parent's balance, or they would be counted twice."""
        if sample.key not in self._balance:
            return
        if self._balance[sample.key] > 0:
            self._settle(sample.key, self._group[sample.key])
            return
        self._recent.pop(sample.key, None)
        self._balance[parent] += self._balance.pop(sample.key)


def _descendants(samples: Mapping[int, ProcessSample], root: int) -> list[ProcessSample]:
    children: dict[int, list[ProcessSample]] = {}
    for sample in samples.values():
        children.setdefault(sample.ppid, []).append(sample)
    found: list[ProcessSample] = []
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child.pid)
    return found


def _children_ticks() -> int:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return round((usage.ru_utime + usage.ru_stime) * TICKS_PER_SECOND)


def measure(
    argv: Sequence[str], *, env: Mapping[str, str] | None = None, interval: float = 0.2
) -> CostReport:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")
    before = _children_ticks()
    meter_before = time.process_time()
    started = time.monotonic()
    command = subprocess.Popen(list(argv), env=dict(env) if env is not None else None)
    ledger = _Ledger(os.getpid(), command.pid)
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(interval):
            ledger.take(snapshot(), _children_ticks() - before)

    sampler = threading.Thread(target=sample, name="cost-sampler", daemon=True)
    sampler.start()
    code = command.wait()
    _reap_orphans()
    stop.set()
    sampler.join()
    ledger.take(snapshot(), _children_ticks() - before)
    ledger.close()
    total = (_children_ticks() - before) / TICKS_PER_SECOND
    return CostReport(
        argv=list(argv),
        exit_code=code,
        wall_seconds=time.monotonic() - started,
        total_seconds=total,
        groups={
            g: t / TICKS_PER_SECOND
            for g, t in sorted(ledger.ticks.items(), key=lambda item: -item[1])
        },
        processes=dict(ledger.processes),
        meter_seconds=time.process_time() - meter_before,
    )


def _reap_orphans(deadline_seconds: float = 60.0) -> None:
    """Wait for descendants that outlived the command (re-parented here): a run that
    leaves one behind has a bug of its own, but its CPU still belongs to the run."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.1)
