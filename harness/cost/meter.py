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
        vanished: dict[int, list[ProcessSample]] = {}
        for key, sample in self._seen.items():
            if key not in now:
                vanished.setdefault(sample.ppid, []).append(sample)
        parents = {self.root: (self._root_reaped, root_reaped, "unseen")}
        for key, sample in now.items():
            if (before := self._seen.get(key)) is not None:
                parents[sample.pid] = (before.reaped, sample.reaped, self._group[key])
        # What every vanished process was last seen with is counted; what the survivors
        # reaped beyond that is the unseen part, whoever reaped what (a child killed with
        # its parent is reaped by the subreaper, not by the parent that was seen).
        grown = sum(new - old for old, new, _ in parents.values())
        seen = sum(s.own + s.reaped for group in vanished.values() for s in group)
        if grown > seen:
            self._spread(grown - seen, parents, vanished)
        self._root_reaped = root_reaped
        self._seen = now

    def _spread(
        self,
        unseen: int,
        parents: Mapping[int, tuple[int, int, str]],
        vanished: Mapping[int, list[ProcessSample]],
    ) -> None:
        """Give ``unseen`` ticks to groups in proportion to each parent's own excess:
        to its vanished children's groups, or to its short-lived children."""
        shares: list[tuple[str, float]] = []
        for pid, (old, new, own_group) in parents.items():
            children = vanished.get(pid, [])
            excess = (new - old) - sum(c.own + c.reaped for c in children)
            if excess <= 0:
                continue
            if not children:  # children that lived and died between two samples
                shares.append((f"{own_group}: short-lived children", excess))
                continue
            weights = [max(1, c.own + c.reaped) for c in children]
            for child, weight in zip(children, weights, strict=True):
                shares.append((self._group[child.key], excess * weight / sum(weights)))
        scale = unseen / (sum(share for _, share in shares) or 1)
        for group, share in shares:
            self.ticks[group] += share * scale


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
