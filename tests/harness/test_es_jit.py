"""A test node runs C1 only (its compiler threads cost more than its work); a run with
benchmarks, or a user who says so, gets the full tiered JIT."""

from __future__ import annotations

import pytest

from harness.plugin.hooks import with_bench_jit
from harness.plugin.services import OPTIONS_KEY
from harness.services.base import ServiceError
from harness.services.elasticsearch import (
    ElasticsearchConfig,
    ElasticsearchKind,
    jit_mode,
    jit_options,
)
from harness.services.es_http import ElasticsearchEndpoint, es_request
from harness.services.options import HarnessOptions


def test_quick_is_c1_only_and_full_adds_nothing() -> None:
    assert jit_options("quick") == jit_options(None) == "-XX:TieredStopAtLevel=1\n"
    assert jit_options("full") == ""


def test_an_unknown_jit_mode_is_refused_with_the_choices() -> None:
    with pytest.raises(ServiceError, match=r"HARNESS_ES_JIT is 'fast'; use one of \('quick'"):
        jit_mode("fast")


def _options(**environ: str) -> HarnessOptions:
    return HarnessOptions.resolve(lambda key: environ.get(key))


def test_benchmarks_get_the_full_jit_unless_the_user_chose() -> None:
    def jit(options: HarnessOptions) -> str | None:
        config = options.configs["elasticsearch"]
        assert isinstance(config, ElasticsearchConfig)
        return config.jit

    assert jit(_options()) is None  # quick, and a run with benchmarks may change it
    assert jit(with_bench_jit(_options())) == "full"
    assert jit(with_bench_jit(_options(harness_elasticsearch_jit="quick"))) == "quick"


def test_the_sessions_local_node_runs_with_the_jit_it_chose(
    es_endpoint: ElasticsearchEndpoint, request: pytest.FixtureRequest
) -> None:
    if es_endpoint.backend != "local":
        pytest.skip(f"a {es_endpoint.backend} node's JVM is not ours to choose")
    config = request.config.stash[OPTIONS_KEY].configs["elasticsearch"]
    assert isinstance(config, ElasticsearchConfig)
    chosen = config.jit
    nodes = es_request(es_endpoint, "GET", "/_nodes/jvm")["nodes"]
    arguments = [a for node in nodes.values() for a in node["jvm"]["input_arguments"]]
    assert ("-XX:TieredStopAtLevel=1" in arguments) == (chosen != "full"), (chosen, arguments)


def test_a_kept_node_is_not_reused_by_a_run_that_wants_the_other_jit() -> None:
    kind = ElasticsearchKind()
    quick = kind.reuse_key(ElasticsearchConfig(version="9.5.4"))
    full = kind.reuse_key(ElasticsearchConfig(version="9.5.4", jit="full"))
    assert quick == "local elasticsearch 9.5.4 jit=quick" and full.endswith("jit=full")
