"""The same services through testcontainers, for machines with a Docker engine.

Container specs are plain data that each kind builds (and unit-tested); only starting needs an
engine. Published ports bind to 127.0.0.1 only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.services.base import ServiceError, ServiceStartError
from harness.services.kind import ContainerSpec, ServiceKind
from harness.services.ports import LOOPBACK
from harness.services.wait import WaitFor

RESTART_TIMEOUT = 180.0


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
    container.ports[str(spec.port)] = (LOOPBACK, None)  # type: ignore[assignment]
    if spec.command:
        container.with_command(spec.command)
    return container


class DockerService:
    backend = "docker"

    def __init__(
        self,
        name: str,
        container: Any,
        endpoint: Any,
        ready: Callable[[], tuple[Any, Callable[[], None]]] | None = None,
    ) -> None:
        self.name = name
        self.container = container
        self.endpoint = endpoint
        self._ready = ready  # the endpoint now published, and the probe to wait on

    def stop(self) -> None:
        self.container.stop()

    # -- faults, as LocalService has them: the engine freezes, kills and starts it -------

    def pause(self) -> None:
        self.container.get_wrapped_container().pause()

    def resume(self) -> None:
        self.container.get_wrapped_container().unpause()

    def kill(self) -> None:
        self.container.get_wrapped_container().kill()

    def restart(self) -> None:
        """Start the killed container again (same volume); the engine may publish it on
        another host port, so the endpoint is read again."""
        if self._ready is None:
            raise ServiceError(f"{self.name} cannot be restarted: it was not started here")
        wrapped = self.container.get_wrapped_container()
        wrapped.start()
        wrapped.reload()
        self.endpoint, probe = self._ready()
        WaitFor(f"{self.name} container restart", probe, RESTART_TIMEOUT).run(
            log_tail=lambda: _container_log_tail(self.container, 40)
        )

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


def start_container(kind: ServiceKind, config: Any, timeout: float) -> DockerService:
    """Run the kind's container, published on 127.0.0.1, and wait until it answers."""
    spec, endpoint_at = kind.container(config)
    container = to_testcontainer(spec).start()
    host, port = _published(container, spec.port)
    endpoint = endpoint_at(host, port)
    try:
        WaitFor(f"{kind.name} container ({spec.image})", lambda: kind.probe(endpoint), timeout).run(
            log_tail=lambda: _container_log_tail(container, 40)
        )
    except ServiceStartError:
        container.stop()
        raise

    def republished() -> tuple[Any, Callable[[], None]]:
        again = endpoint_at(*_published(container, spec.port))
        return again, lambda: kind.probe(again)

    return DockerService(kind.name, container, endpoint, republished)
