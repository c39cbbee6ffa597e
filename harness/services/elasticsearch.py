"""A local, single-node Elasticsearch: 127.0.0.1 only, free ports, everything in a temp dir."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from harness.services.base import ElasticsearchEndpoint, ServiceStartError
from harness.services.es_distribution import DEFAULT_ES_VERSION, Distribution, resolve_distribution
from harness.services.es_http import es_request, server_version
from harness.services.java import Jdk, find_jdk
from harness.services.ports import LOOPBACK, free_port, require_free
from harness.services.privileges import hand_over, service_user
from harness.services.process import ServiceProcess
from harness.services.wait import NotReady, WaitFor
from harness.services.workdirs import Workdir

BIND_FAILURE_MARKERS = ("BindException", "Address already in use", "BindTransportException")


@dataclass
class ElasticsearchSettings:
    version: str = DEFAULT_ES_VERSION
    distribution: str | None = None
    port: int | None = None
    heap: str = "768m"
    startup_timeout: float = 180.0
    extra_settings: dict[str, str] = field(default_factory=dict)


def node_settings(
    dist: Distribution, workdir: Path, http_port: int, transport_port: int
) -> dict[str, str]:
    settings = {
        "cluster.name": "search-harness",
        "node.name": "harness-node",
        "network.host": LOOPBACK,
        "http.port": str(http_port),
        "transport.port": str(transport_port),
        "discovery.type": "single-node",
        "path.data": str(workdir / "data"),
        "path.logs": str(workdir / "logs"),
        # Test machines run with little free disk; watermarks would block writes.
        "cluster.routing.allocation.disk.threshold_enabled": "false",
        "action.destructive_requires_name": "false",
    }
    modules = dist.modules
    if "x-pack-security" in modules:
        settings["xpack.security.enabled"] = "false"
    if "ingest-geoip" in modules:  # there is no internet to download databases from
        settings["ingest.geoip.downloader.enabled"] = "false"
    return settings


class LocalElasticsearch:
    name = "elasticsearch"
    backend = "local"

    def __init__(
        self,
        process: ServiceProcess,
        workdir: Workdir,
        endpoint: ElasticsearchEndpoint,
        jdk: Jdk,
        distribution: Distribution,
    ) -> None:
        self.process = process
        self.workdir = workdir
        self.endpoint = endpoint
        self.jdk = jdk
        self.distribution = distribution

    @classmethod
    def start(
        cls, settings: ElasticsearchSettings, *, detached: bool = False
    ) -> LocalElasticsearch:
        dist = resolve_distribution(settings.version, settings.distribution)
        jdk = find_jdk(dist.version)
        attempts = 1 if settings.port else 3
        for attempt in range(1, attempts + 1):
            try:
                return cls._start_once(settings, dist, jdk, detached)
            except ServiceStartError as exc:
                if attempt == attempts or not any(m in exc.log_tail for m in BIND_FAILURE_MARKERS):
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def _start_once(
        cls, settings: ElasticsearchSettings, dist: Distribution, jdk: Jdk, detached: bool
    ) -> LocalElasticsearch:
        http_port = require_free(settings.port, "elasticsearch") if settings.port else free_port()
        transport_port = free_port()
        user = service_user()
        workdir = Workdir.create("elasticsearch", watched=not detached)
        config = workdir.path / "config"
        shutil.copytree(dist.home / "config", config)
        for sub in ("data", "logs", "tmp"):
            (workdir.path / sub).mkdir()
        values = (
            node_settings(dist, workdir.path, http_port, transport_port) | settings.extra_settings
        )
        with (config / "elasticsearch.yml").open("a") as yml:
            yml.write("\n# written by search-harness\n")
            yml.writelines(f"{key}: {value}\n" for key, value in values.items())
        (config / "jvm.options.d").mkdir(exist_ok=True)
        (config / "jvm.options.d" / "harness.options").write_text(
            f"-Xms{settings.heap}\n-Xmx{settings.heap}\n"
        )
        hand_over(workdir.path, user)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(workdir.path),
            "LANG": "C.UTF-8",
            "ES_PATH_CONF": str(config),
            "ES_JAVA_HOME": str(jdk.home),
            "ES_TMPDIR": str(workdir.path / "tmp"),
        }
        process = ServiceProcess(
            "elasticsearch",
            [str(dist.home / "bin" / "elasticsearch")],
            log_path=workdir.path / "console.log",
            env=env,
            user=user,
            cwd=workdir.path,
            watched=not detached,
        )
        url = f"http://{LOOPBACK}:{http_port}"
        if detached:  # the dir lives as long as the node, not as long as this process
            workdir.set_owner(process.pid)
        try:
            WaitFor(
                f"Elasticsearch {dist.version} on {url}",
                lambda: _cluster_usable(url),
                timeout=settings.startup_timeout,
            ).run(exited=process.exit_code, log_tail=process.log_tail)
            version = server_version(url)
        except BaseException:
            process.stop(grace=10)
            workdir.remove()
            raise
        endpoint = ElasticsearchEndpoint(url=url, version=version, backend="local")
        return cls(process, workdir, endpoint, jdk, dist)

    def log_tail(self, lines: int = 40) -> str:
        return self.process.log_tail(lines)

    def pids(self) -> list[int]:
        return self.process.tree()

    def stop(self) -> None:
        self.process.stop()
        self.workdir.remove()


def _cluster_usable(url: str) -> dict:
    health = es_request(url, "GET", "/_cluster/health?wait_for_status=yellow&timeout=1s", timeout=5)
    if health.get("status") not in ("yellow", "green"):
        raise NotReady(f"cluster health is {health.get('status')}")
    return health
