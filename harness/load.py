"""The machine's measured load, as a factor for the few waits that cannot be conditions.

Most of the harness waits on a condition with a generous deadline. Two things are not
like that: a service's start-up deadline (a server that is merely slow must not be called
broken), and the lease a scenario gives the services it starts (short, so that a lost job
is seen within seconds, but a *live* job whose heartbeat is late by more than the lease
is rightly given up by the runtime). Both were chosen on a machine with up to two
runnable processes per core. With three CI runs, a stress run and four busy processes on
two cores (the 1-minute load average at 20), a heartbeat of one read and two refreshed
writes took more than 3 s, and Elasticsearch recovering its shards after a kill took more
than 180 s: the runtime did as it was told, the harness's numbers were for another machine.

So these scale with the load average per core above that calm level, up to ``CAP``:
beyond it a run is too starved to say anything, and should fail, loudly, by its deadline.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

CALM_RUNNABLE_PER_CORE = 2.0
CAP = 4.0


@dataclass(frozen=True)
class Load:
    average: float  # the kernel's 1-minute load average
    cores: int

    @classmethod
    def now(cls) -> Load:
        return cls(os.getloadavg()[0], os.cpu_count() or 1)

    @property
    def factor(self) -> float:
        """1 on a calm machine; the runnable processes per core over the calm level,
        otherwise, capped at ``CAP``."""
        return min(CAP, max(1.0, self.average / self.cores / CALM_RUNNABLE_PER_CORE))

    def scaled(self, seconds: float) -> float:
        return seconds * self.factor

    def says(self) -> str:
        """For an error message: why a deadline is longer than the one configured."""
        return f"x{self.factor:.1f} for load {self.average:.1f} on {self.cores} cores"
