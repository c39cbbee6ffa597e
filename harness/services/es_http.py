"""A minimal JSON-over-HTTP client for the harness's own calls to Elasticsearch.

The harness supports 8.x and 9.x servers; the official client of one major refuses the
other, so service management and readiness use plain HTTP.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from harness.services.base import Secret, redact_url


@dataclass(frozen=True)
class ElasticsearchEndpoint:
    url: str
    version: str
    backend: str
    username: str | None = None
    password: Secret | None = field(default=None, repr=False, metadata={"secret": True})

    def location(self, reveal: bool = False) -> str:
        return self.url if reveal else redact_url(self.url)

    def redacted_url(self) -> str:
        return redact_url(self.url)

    def basic_auth(self) -> tuple[str, str] | None:
        if self.username is None or self.password is None:
            return None
        return (self.username, self.password.reveal())


class EsHttpError(OSError):
    def __init__(self, status: int, method: str, url: str, body: str) -> None:
        super().__init__(f"{method} {redact_url(url)} -> HTTP {status}: {body[:500]}")
        self.status = status


def es_request(
    endpoint: ElasticsearchEndpoint | str,
    method: str,
    path: str,
    body: Any = None,
    *,
    timeout: float = 30.0,
) -> Any:
    base = endpoint if isinstance(endpoint, str) else endpoint.url
    url = base.rstrip("/") + path
    data = None
    headers = {"Accept": "application/json"}
    if body is not None:
        if isinstance(body, bytes):
            data = body
            headers["Content-Type"] = "application/x-ndjson"
        else:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
    if isinstance(endpoint, ElasticsearchEndpoint) and endpoint.basic_auth():
        user, password = endpoint.basic_auth()  # type: ignore[misc]
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = response.read()
    except urllib.error.HTTPError as exc:
        raise EsHttpError(exc.code, method, url, exc.read().decode(errors="replace")) from None
    return json.loads(payload) if payload else None


def server_version(endpoint: ElasticsearchEndpoint | str, timeout: float = 10.0) -> str:
    """The node version. ``GET /`` is missing from the integ-test-zip, so ask the nodes API."""
    nodes = es_request(
        endpoint, "GET", "/_nodes/_local?filter_path=nodes.*.version", timeout=timeout
    )
    return str(next(iter(nodes["nodes"].values()))["version"])
