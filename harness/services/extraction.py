"""Service kind ``extraction``: bytes in, text out, over a subset of Tika server's API.
Locally, the harness's Python extractors (harness/extraction/serve.py, the engine chosen
by measurement: docs/extraction.md); in Docker, ``apache/tika``; or yours by URL (a Tika
server you run)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import defaults
from harness.services.code_digest import harness_code
from harness.services.http_endpoint import HttpEndpoint
from harness.services.kind import ContainerSpec, ServiceConfig, option
from harness.services.own_server import OwnServer, OwnServerKind
from harness.services.privileges import ServiceUser
from harness.services.wait import NotReady


@dataclass(frozen=True)
class ExtractionConfig(ServiceConfig):
    url: str | None = option(
        flag="--extraction-url",
        env="HARNESS_EXTRACTION_URL",
        help="a Tika server you run (http://host:9998)",
        external=True,
    )
    max_bytes: int = option(
        defaults.EXTRACTION_MAX_BYTES,
        env="HARNESS_EXTRACTION_MAX_BYTES",
        help="the local service refuses (413) larger files",
        parse=int,
    )
    image: str = option(
        defaults.EXTRACTION_IMAGE, env="HARNESS_EXTRACTION_IMAGE", help="docker image (Tika)"
    )
    port: int | None = option(env="HARNESS_EXTRACTION_PORT", help="fixed local port", parse=int)
    startup_timeout: float = option(
        defaults.EXTRACTION_STARTUP_TIMEOUT,
        env="HARNESS_EXTRACTION_STARTUP_TIMEOUT",
        help="seconds to wait for the service",
        parse=float,
    )


@dataclass(frozen=True)
class ExtractionEndpoint(HttpEndpoint):
    def stats(self) -> dict[str, float] | None:
        """The harness service's running totals (files, bytes, parse seconds); None from a
        service without them (Tika)."""
        try:
            with urllib.request.urlopen(self.url + "/stats", timeout=5) as answer:
                return dict(json.loads(answer.read()))
        except (OSError, ValueError):
            return None


class LocalExtraction(OwnServer):
    name = "extraction"
    module = "harness.extraction.serve"
    what = "extraction service"

    @classmethod
    def prepare(cls, config: ExtractionConfig, workdir: Path, user: ServiceUser) -> int:
        return config.max_bytes

    @classmethod
    def arguments(cls, prepared: int) -> list[str]:
        return ["--max-bytes", str(prepared)]

    @classmethod
    def check(cls, url: str) -> str:
        """Ready when ``GET /tika`` answers; returns ``GET /version``."""
        try:
            with urllib.request.urlopen(url + "/tika", timeout=3) as answer:
                answer.read()
            with urllib.request.urlopen(url + "/version", timeout=3) as answer:
                return answer.read().decode(errors="replace").strip() or "?"
        except (OSError, urllib.error.URLError) as exc:
            raise NotReady(f"{type(exc).__name__}: {exc}") from None

    @classmethod
    def endpoint(cls, url: str, version: str, backend: str) -> ExtractionEndpoint:
        return ExtractionEndpoint(url, version, backend)

    @classmethod
    def local_version(cls) -> str:
        from harness.extraction.serve import VERSION

        return VERSION


class ExtractionKind(OwnServerKind):
    name = "extraction"
    summary = "text extraction over Tika's API: the Python extractors, apache/tika, or yours"
    config_class = ExtractionConfig
    endpoint_class = ExtractionEndpoint
    server = LocalExtraction

    def container(
        self, config: ExtractionConfig
    ) -> tuple[ContainerSpec, Callable[[str, int], Any]]:
        spec = ContainerSpec(image=config.image, port=9998)
        version = config.image.split(":", 1)[1] if ":" in config.image else "?"
        return spec, lambda host, port: ExtractionEndpoint(
            f"http://{host}:{port}", f"tika {version}", "docker"
        )

    def reuse_key(self, config: ExtractionConfig) -> str:
        return f"local extraction {config.max_bytes} code {harness_code()}"
