"""The endpoint of a service that is a URL and nothing more (the extraction service, the
mock API server): where it answers, its version, and which backend runs it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from harness.services.ports import LOOPBACK


@dataclass(frozen=True)
class HttpEndpoint:
    url: str
    version: str
    backend: str

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or LOOPBACK

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 80

    def location(self, reveal: bool = False) -> str:
        return self.url
