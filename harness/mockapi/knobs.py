"""What can go wrong with a SaaS API, as knobs on a mock site: latency, a rate limit that
answers 429 with ``Retry-After``, bursts of 5xx, tokens that expire. Set when a site is
created or at run time (``PUT /_admin/sites/<site>/knobs``); every decision is counted,
so a scenario can check the client's behaviour (did it wait as long as it was told?)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class Knobs:
    latency_ms: float = 0.0  # added to every API answer
    rate_limit: int = 0  # requests allowed per rate_window_s; 0: no limit
    rate_window_s: float = 1.0
    retry_after_s: int = 1  # what a 429 asks the client to wait (whole seconds, as HTTP says)
    error_burst: int = 0  # the next N API requests answer error_status
    error_status: int = 503
    token_ttl_s: float = 0.0  # credentials stop working this long after being set; 0: never
    churn_between_pages: int = 0  # changes applied after each paged answer with a next link

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Knobs:
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown knobs {unknown}; known: {sorted(known)}")
        return cls(**values)

    def updated(self, values: dict[str, Any]) -> Knobs:
        return Knobs.from_dict(asdict(self) | values)


@dataclass
class Throttle:
    """Sliding-window counts per site, and what the client did after each 429."""

    knobs: Knobs
    credentials_set_at: float = field(default_factory=time.monotonic)
    stamps: list[float] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    told_to_wait_until: float = 0.0
    # The shortest wait a client left after a 429 before asking again, minus what it was
    # asked to wait: negative means it came back too early.
    shortest_margin_s: float | None = None

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def decide(self, now: float) -> tuple[int, dict[str, str]] | None:
        """None to serve the request, or the status and headers to refuse it with."""
        self.count("requests")
        if self.told_to_wait_until:
            margin = now - self.told_to_wait_until
            if self.shortest_margin_s is None or margin < self.shortest_margin_s:
                self.shortest_margin_s = margin
            self.told_to_wait_until = 0.0
        if self.knobs.error_burst > 0:
            self.knobs.error_burst -= 1
            self.count("errors_served")
            return self.knobs.error_status, {}
        if self.knobs.rate_limit:
            window = self.knobs.rate_window_s
            self.stamps = [t for t in self.stamps if now - t < window]
            if len(self.stamps) >= self.knobs.rate_limit:
                self.count("throttled")
                self.told_to_wait_until = now + self.knobs.retry_after_s
                return 429, {"Retry-After": str(self.knobs.retry_after_s)}
            self.stamps.append(now)
        return None

    def token_expired(self, now: float) -> bool:
        ttl = self.knobs.token_ttl_s
        return bool(ttl) and now - self.credentials_set_at > ttl

    def report(self) -> dict[str, Any]:
        return {
            **self.counts,
            "shortest_margin_after_429_s": self.shortest_margin_s,
            "knobs": asdict(self.knobs),
        }
