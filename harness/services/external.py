"""Services the user already runs. The harness only attaches: it never stops them, and
it never deletes anything there that it did not create (everything it creates carries a
run prefix). How to attach is each kind's business (``ServiceKind.attach``)."""

from __future__ import annotations

from typing import Any


class ExternalService:
    backend = "external"

    def __init__(self, name: str, endpoint: Any) -> None:
        self.name = name
        self.endpoint = endpoint

    def stop(self) -> None:
        """Not ours to stop."""

    def log_tail(self, lines: int = 40) -> str:
        return "(external service: its log is not available to the harness)"

    def pids(self) -> list[int]:
        return []
