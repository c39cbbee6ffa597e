"""A test node runs C1 only (its compiler threads cost more than its work); a run with
benchmarks, or a user who says so, gets the full tiered JIT."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from harness.plugin.hooks import BENCH_JIT_KEY, given_or_bench_default
from harness.plugin.services import OPTIONS_KEY
from harness.services.base import ServiceError
from harness.services.elasticsearch import ElasticsearchConfig, jit_mode, jit_options
from harness.services.es_http import ElasticsearchEndpoint, es_request


def test_quick_is_c1_only_and_full_adds_nothing() -> None:
    assert jit_options("quick") == "-XX:TieredStopAtLevel=1\n"
    assert jit_options("full") == ""


def test_an_unknown_jit_mode_is_refused_with_the_choices() -> None:
    with pytest.raises(ServiceError, match=r"HARNESS_ES_JIT is 'fast'; use one of \('quick'"):
        jit_mode("fast")


def _config(flag: str | None = None, ini: str = "") -> Any:
    return SimpleNamespace(option=SimpleNamespace(**{BENCH_JIT_KEY: flag}), getini=lambda _: ini)


def test_benchmarks_get_the_full_jit_unless_the_user_chose(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HARNESS_ES_JIT", raising=False)
    assert given_or_bench_default(_config(), BENCH_JIT_KEY, bench=True) == "full"
    assert given_or_bench_default(_config(), BENCH_JIT_KEY, bench=False) is None
    assert given_or_bench_default(_config("quick"), BENCH_JIT_KEY, bench=True) == "quick"
    assert given_or_bench_default(_config(ini="quick"), BENCH_JIT_KEY, bench=True) is None
    monkeypatch.setenv("HARNESS_ES_JIT", "quick")
    assert given_or_bench_default(_config(), BENCH_JIT_KEY, bench=True) is None


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
    assert ("-XX:TieredStopAtLevel=1" in arguments) == (chosen == "quick"), (chosen, arguments)
