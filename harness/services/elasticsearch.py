"""Service kind ``elasticsearch``: a single node on 127.0.0.1, free ports, a temp dir;
a container; or the user's cluster."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import defaults
from harness.services.base import Secret, ServiceError
from harness.services.es_distribution import Distribution, default_version, resolve_distribution
from harness.services.es_http import ElasticsearchEndpoint, es_request, server_version
from harness.services.java import Jdk, find_jdk
from harness.services.kind import ContainerSpec, ServiceConfig, ServiceKind, option
from harness.services.local import Launch, LocalService
from harness.services.ports import LOOPBACK, claim_port
from harness.services.privileges import ServiceUser, hand_over
from harness.services.wait import NotReady

IMAGE = "docker.elastic.co/elasticsearch/elasticsearch:{version}"


@dataclass(frozen=True)
class ElasticsearchConfig(ServiceConfig):
    version: str | None = option(
        flag="--es-version",
        env="HARNESS_ES_VERSION",
        help=f"Elasticsearch version for local/docker (default {defaults.ES_VERSION}, or "
        "the version bootstrap chose for this machine)",
    )
    distribution: str | None = option(
        flag="--es-distribution",
        env="HARNESS_ES_DISTRIBUTION",
        help="an unpacked Elasticsearch distribution or its .zip",
    )
    trust_unverified: bool = option(
        False,
        flag="--es-trust-unverified",
        env="HARNESS_ES_TRUST_UNVERIFIED",
        help="accept a download that neither a pinned digest nor the registry can verify",
        boolean=True,
    )
    url: str | None = option(
        flag="--es-url", env="HARNESS_ES_URL", help="external Elasticsearch URL", external=True
    )
    username: str | None = option(env="HARNESS_ES_USERNAME", help="external ES user")
    password: Secret | None = option(
        env="HARNESS_ES_PASSWORD", help="external ES password", secret=True
    )
    port: int | None = option(env="HARNESS_ES_PORT", help="fixed local HTTP port", parse=int)
    heap: str = option(defaults.ES_HEAP, env="HARNESS_ES_HEAP", help="local JVM heap")
    jit: str | None = option(
        None,
        flag="--es-jit",
        env="HARNESS_ES_JIT",
        help="a local node's JIT: 'quick' (C1 only: a test node's compiler threads cost it "
        "more CPU than its work; the default) or 'full' (tiered C2, as in production; the "
        "default of a run with --bench)",
        parse=lambda value: jit_mode(value),
    )
    java_options: str = option(
        "",
        env="HARNESS_ES_JAVA_OPTS",
        help="more JVM options for a local node, space-separated (its jvm.options.d)",
    )
    startup_timeout: float = option(
        defaults.ES_STARTUP_TIMEOUT,
        env="HARNESS_ES_STARTUP_TIMEOUT",
        help="seconds to wait for a local node",
        parse=float,
    )

    @property
    def effective_version(self) -> str:
        return self.version or default_version()


JIT_MODES = ("quick", "full")


def jit_mode(value: str) -> str:
    if value not in JIT_MODES:
        raise ServiceError(f"--es-jit / HARNESS_ES_JIT is {value!r}; use one of {JIT_MODES}")
    return value


def jit_options(jit: str | None) -> str:
    """C1 alone for a test node: measured on the PostgreSQL suite, C2's compiler threads
    used 36 s of the node's 72 s while its work used 35 s, on code paths that a short run
    never makes hot enough to repay them. Benchmarks keep the full tiered JIT."""
    return "" if jit == "full" else "-XX:TieredStopAtLevel=1\n"


def node_name(workdir: Path) -> str:
    """Unique per node (its work dir's name): a restart is checked to answer as itself."""
    return workdir.name


def node_settings(
    dist: Distribution, workdir: Path, http_port: int, transport_port: int
) -> dict[str, str]:
    settings = {
        "cluster.name": "search-harness",
        "node.name": node_name(workdir),
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


@dataclass(frozen=True)
class _Prepared:
    dist: Distribution
    jdk: Jdk
    base_yml: str


class LocalElasticsearch(LocalService):
    name = "elasticsearch"
    bind_failure_markers = ("BindException", "Address already in use", "BindTransportException")

    @classmethod
    def prepare(cls, config: ElasticsearchConfig, workdir: Path, user: ServiceUser) -> _Prepared:
        dist = resolve_distribution(
            config.effective_version, config.distribution, config.trust_unverified
        )
        jdk = find_jdk(dist.version)
        shutil.copytree(dist.home / "config", workdir / "config")
        for sub in ("data", "logs", "tmp"):
            (workdir / sub).mkdir()
        (workdir / "config" / "jvm.options.d").mkdir(exist_ok=True)
        (workdir / "config" / "jvm.options.d" / "harness.options").write_text(
            f"-Xms{config.heap}\n-Xmx{config.heap}\n"
            + jit_options(config.jit)
            + "".join(f"{option}\n" for option in config.java_options.split())
        )
        hand_over(workdir, user)
        return _Prepared(dist, jdk, (workdir / "config" / "elasticsearch.yml").read_text())

    @classmethod
    def launch(cls, prepared: _Prepared, workdir: Path, port: int) -> Launch:
        values = node_settings(prepared.dist, workdir, port, claim_port(workdir))
        (workdir / "config" / "elasticsearch.yml").write_text(
            prepared.base_yml
            + "\n# written by search-harness\n"
            + "".join(f"{key}: {value}\n" for key, value in values.items())
        )
        url = f"http://{LOOPBACK}:{port}"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(workdir),
            "LANG": "C.UTF-8",
            "ES_PATH_CONF": str(workdir / "config"),
            "ES_JAVA_HOME": str(prepared.jdk.home),
            "ES_TMPDIR": str(workdir / "tmp"),
        }
        return Launch(
            [str(prepared.dist.home / "bin" / "elasticsearch")],
            env,
            ElasticsearchEndpoint(url=url, version=prepared.dist.version, backend="local"),
            f"Elasticsearch {prepared.dist.version} on {url}",
            identity=node_name(workdir),
        )

    @classmethod
    def answers_as(cls, endpoint: ElasticsearchEndpoint) -> str | None:
        found = es_request(endpoint, "GET", "/_nodes/_local?filter_path=nodes.*.name", timeout=5)
        return str(next(iter(found["nodes"].values()))["name"])

    @classmethod
    def ready(cls, endpoint: ElasticsearchEndpoint) -> ElasticsearchEndpoint:
        cluster_usable(endpoint)
        return ElasticsearchEndpoint(endpoint.url, server_version(endpoint), "local")


def cluster_usable(endpoint: ElasticsearchEndpoint | str) -> None:
    health = es_request(
        endpoint, "GET", "/_cluster/health?wait_for_status=yellow&timeout=1s", timeout=5
    )
    if health.get("status") not in ("yellow", "green"):
        raise NotReady(f"cluster health is {health.get('status')}")


class ElasticsearchKind(ServiceKind):
    name = "elasticsearch"
    summary = "Elasticsearch: a local single node, a container, or your cluster"
    config_class = ElasticsearchConfig
    endpoint_class = ElasticsearchEndpoint
    fixture_alias = "es_endpoint"
    needed_by_default = True
    name_separator = "-"
    name_limit = 255

    def start_local(self, config: ElasticsearchConfig, *, detached: bool) -> LocalElasticsearch:
        return LocalElasticsearch.start(config, detached=detached)

    def attach(self, config: ElasticsearchConfig) -> ElasticsearchEndpoint:
        assert config.url is not None
        probe = ElasticsearchEndpoint(config.url, "?", "external", config.username, config.password)
        try:
            version = server_version(probe)
        except OSError as exc:
            raise ServiceError(
                f"external Elasticsearch at {probe.redacted_url()} is unreachable: {exc}"
            ) from None
        return ElasticsearchEndpoint(
            config.url, version, "external", config.username, config.password
        )

    def container(
        self, config: ElasticsearchConfig
    ) -> tuple[ContainerSpec, Callable[[str, int], Any]]:
        spec = ContainerSpec(
            image=IMAGE.format(version=config.effective_version),
            port=9200,
            env={
                "discovery.type": "single-node",
                "xpack.security.enabled": "false",
                "cluster.routing.allocation.disk.threshold_enabled": "false",
                "ingest.geoip.downloader.enabled": "false",
                "ES_JAVA_OPTS": f"-Xms{config.heap} -Xmx{config.heap}",
            },
        )
        return spec, lambda host, port: ElasticsearchEndpoint(
            f"http://{host}:{port}", config.effective_version, "docker"
        )

    def probe(self, endpoint: ElasticsearchEndpoint) -> None:
        server_version(endpoint, timeout=3)

    def reuse_key(self, config: ElasticsearchConfig) -> str:
        parts = ["local elasticsearch", config.effective_version, f"jit={config.jit or 'quick'}"]
        return " ".join([*parts, *config.java_options.split(), config.distribution or ""]).strip()

    def local_version(self, config: ElasticsearchConfig) -> str:
        return config.effective_version
