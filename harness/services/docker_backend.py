"""The same services through testcontainers, for machines with a Docker engine.

Container specs are plain data built here (and unit-tested); only ``start`` needs an
engine. Published ports bind to 127.0.0.1 only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from harness.services.base import (
    ElasticsearchEndpoint,
    PostgresEndpoint,
    Secret,
    ServiceError,
    ServiceStartError,
)
from harness.services.es_http import server_version
from harness.services.ports import LOOPBACK
from harness.services.postgres import SUPERUSER, check_postgres
from harness.services.wait import WaitFor

ES_IMAGE = "docker.elastic.co/elasticsearch/elasticsearch:{version}"
PG_IMAGE = "postgres:{version}"
DEFAULT_PG_IMAGE_VERSION = "16"


def docker_engine_status(timeout: float = 2.0) -> tuple[bool, str]:
    """Whether a Docker engine answers, and why not if it does not."""
    try:
        import docker
    except ImportError:
        return False, "the 'docker' Python package is not installed (pip install '.[docker]')"
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
        client.close()
    except Exception as exc:
        return False, f"no Docker engine answered ({type(exc).__name__})"
    return True, "a Docker engine answered"


@dataclass(frozen=True)
class ContainerSpec:
    image: str
    port: int
    env: dict[str, str] = field(default_factory=dict)
    command: list[str] | None = None


def elasticsearch_spec(version: str, heap: str = "768m") -> ContainerSpec:
    return ContainerSpec(
        image=ES_IMAGE.format(version=version),
        port=9200,
        env={
            "discovery.type": "single-node",
            "xpack.security.enabled": "false",
            "cluster.routing.allocation.disk.threshold_enabled": "false",
            "ingest.geoip.downloader.enabled": "false",
            "ES_JAVA_OPTS": f"-Xms{heap} -Xmx{heap}",
        },
    )


def postgres_spec(password: Secret, version: str = DEFAULT_PG_IMAGE_VERSION) -> ContainerSpec:
    return ContainerSpec(
        image=PG_IMAGE.format(version=version),
        port=5432,
        env={
            "POSTGRES_USER": SUPERUSER,
            "POSTGRES_PASSWORD": password.reveal(),
            "POSTGRES_DB": "postgres",
        },
        command=[
            "postgres",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ],
    )


def to_testcontainer(spec: ContainerSpec) -> Any:
    """A testcontainers ``DockerContainer`` for ``spec``, published on 127.0.0.1 only."""
    try:
        from testcontainers.core.container import DockerContainer
    except ImportError:
        raise ServiceError(
            "the docker backend needs testcontainers: pip install '.[docker]'"
        ) from None
    container = DockerContainer(spec.image)
    for key, value in spec.env.items():
        container.with_env(key, value)
    # testcontainers' with_bind_ports takes no address, so set the binding docker-py gets:
    # (address, None) publishes on loopback with a port the engine picks.
    container.ports[str(spec.port)] = (LOOPBACK, None)
    if spec.command:
        container.with_command(spec.command)
    return container


class DockerService:
    backend = "docker"

    def __init__(
        self, name: str, container: Any, endpoint: ElasticsearchEndpoint | PostgresEndpoint
    ) -> None:
        self.name = name
        self.container = container
        self.endpoint = endpoint

    def stop(self) -> None:
        self.container.stop()

    def log_tail(self, lines: int = 40) -> str:
        return _container_log_tail(self.container, lines)

    def pids(self) -> list[int]:
        return []


def _container_log_tail(container: Any, lines: int) -> str:
    try:
        out, err = container.get_logs()
    except Exception:
        return "(container logs unavailable)"
    text = (out or b"").decode(errors="replace") + (err or b"").decode(errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def _published(container: Any, port: int) -> tuple[str, int]:
    return container.get_container_host_ip(), int(container.get_exposed_port(port))


def start_elasticsearch(version: str, heap: str, timeout: float) -> DockerService:
    container = to_testcontainer(elasticsearch_spec(version, heap)).start()
    host, port = _published(container, 9200)
    url = f"http://{host}:{port}"
    try:
        WaitFor(
            f"Elasticsearch {version} container",
            lambda: server_version(url, timeout=3),
            timeout=timeout,
        ).run(log_tail=lambda: _container_log_tail(container, 40))
    except ServiceStartError:
        container.stop()
        raise
    return DockerService("elasticsearch", container, ElasticsearchEndpoint(url, version, "docker"))


def start_postgres(timeout: float) -> DockerService:
    password = Secret(secrets.token_urlsafe(24))
    container = to_testcontainer(postgres_spec(password)).start()
    host, port = _published(container, 5432)
    endpoint = PostgresEndpoint(
        host, port, SUPERUSER, password, "postgres", DEFAULT_PG_IMAGE_VERSION, "docker"
    )
    try:
        WaitFor("PostgreSQL container", lambda: check_postgres(endpoint), timeout=timeout).run(
            log_tail=lambda: _container_log_tail(container, 40)
        )
    except ServiceStartError:
        container.stop()
        raise
    return DockerService("postgresql", container, endpoint)
