"""A fault proxy hosted by the ``fault_proxy`` service (harness/faults/serve.py), driven
through its control API with the same calls as the in-process ``FaultProxy``."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from harness.services.base import ServiceError


def control(base_url: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base_url.rstrip("/") + path,
        data=data,
        method=method,
        headers={"content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        reason = json.loads(exc.read() or b"{}").get("error", exc.reason)
        raise ServiceError(f"fault proxy {method} {path}: {reason}") from None


class RemoteFaultProxy:
    """One proxy in a fault_proxy service: ``fail``, ``cut_after``, ``hold``... as on
    ``FaultProxy``; ``stats()`` reads its counters; ``close()`` removes it."""

    def __init__(self, base_url: str, upstream: tuple[str, int], http: bool = True) -> None:
        self.base_url = base_url
        mode = "http" if http else "tcp"
        target = f"{upstream[0]}:{upstream[1]}"
        made = control(base_url, "POST", "/proxies", {"upstream": target, "mode": mode})
        self.id: str = made["id"]
        host, _, port = made["address"].rpartition(":")
        self.address = (host, int(port))

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://{self.address[0]}:{self.address[1]}"

    def stats(self) -> dict[str, Any]:
        described: dict[str, Any] = control(self.base_url, "GET", f"/proxies/{self.id}")
        return dict(described["stats"])

    def close(self) -> None:
        control(self.base_url, "DELETE", f"/proxies/{self.id}")

    def __enter__(self) -> RemoteFaultProxy:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __getattr__(self, action: str) -> Any:
        """fail(pattern, status=503, every=1, limit=None), drop, cut, cut_after(bytes_down),
        cut_connections(), latency(s), throttle(bytes_per_second), hold(), release(),
        stall(s), clear(): keyword arguments, as the control API takes them."""
        if action.startswith("_"):
            raise AttributeError(action)

        def call(**arguments: Any) -> Any:
            path = f"/proxies/{self.id}/{action}"
            return control(self.base_url, "POST", path, arguments)["result"]

        return call
