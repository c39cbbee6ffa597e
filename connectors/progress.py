"""A progress display for syncs that take more than a couple of seconds, on a terminal only
(never in logs, pipes or CI output)."""

from __future__ import annotations

import sys
import time
from typing import Any

DELAY_SECONDS = 2.0


class SyncProgress:
    def __init__(self, label: str, stream: Any = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self._progress: Any = None
        self._task: Any = None

    @property
    def enabled(self) -> bool:
        return bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, seen: int, written: int) -> None:
        if not self.enabled or time.monotonic() - self.started < DELAY_SECONDS:
            return
        if self._progress is None:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn("{task.fields[seen]:>10,} seen  {task.fields[written]:>10,} written"),
                TextColumn("{task.fields[rate]:>8,.0f} docs/s"),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.label, seen=0, written=0, rate=0.0)
        rate = seen / max(time.monotonic() - self.started, 1e-9)
        self._progress.update(self._task, seen=seen, written=written, rate=rate)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
