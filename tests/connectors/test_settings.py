"""The runtime's settings: read once from the environment it is handed, passed down, and
refused with the variable's name when a value is unusable."""

from __future__ import annotations

import ast
import pathlib

import pytest

from connectors.es.client import es_client
from connectors.settings import RuntimeSettings, SettingError

URL = "http://127.0.0.1:9"
RUNTIME = pathlib.Path(__file__).parents[2] / "connectors"


def test_timeouts_and_deadline_come_from_the_environment() -> None:
    env = {"CONNECTORS_ES_REQUEST_TIMEOUT": "7.5", "CONNECTORS_ES_RETRY_SECONDS": "42"}
    es = RuntimeSettings.from_env(env, URL).es
    assert (es.request_timeout, es.retry_deadline) == (7.5, 42.0)
    assert RuntimeSettings.from_env({}, URL).es.request_timeout == 60.0
    env = {"CONNECTORS_ES_RETRY_BACKOFF_SECONDS": "0.05",
           "CONNECTORS_ES_RETRY_BACKOFF_CAP_SECONDS": "1"}  # fmt: skip
    es = RuntimeSettings.from_env(env, URL).es
    assert (es.retry_backoff, es.retry_backoff_cap) == (0.05, 1.0)
    policy = es_client(es).policy
    assert (policy.backoff, policy.backoff_cap) == (0.05, 1.0)


@pytest.mark.parametrize("value", ["abc", "0", "-1", "nan", "inf"])
def test_a_bad_duration_in_the_environment_is_named(value: str) -> None:
    env = {"CONNECTORS_ES_RETRY_BACKOFF_SECONDS": value}
    with pytest.raises(SettingError, match=f"CONNECTORS_ES_RETRY_BACKOFF_SECONDS='{value}'"):
        RuntimeSettings.from_env(env, URL)


def test_the_flag_wins_over_the_environment_and_one_of_them_is_needed() -> None:
    env = {"CONNECTORS_ES_URL": "http://127.0.0.1:1"}
    assert RuntimeSettings.from_env(env, URL).es.url == URL
    assert RuntimeSettings.from_env(env).es.url == "http://127.0.0.1:1"
    with pytest.raises(SettingError, match="CONNECTORS_ES_URL"):
        RuntimeSettings.from_env({})


def test_lease_timing_source_retry_and_batches_reach_the_sync_options() -> None:
    env = {
        "CONNECTORS_HEARTBEAT_SECONDS": "0.5",
        "CONNECTORS_LEASE_SECONDS": "3",
        "CONNECTORS_SOURCE_RETRY_SECONDS": "12",
        "CONNECTORS_BULK_MAX_DOCS": "40",
        "CONNECTORS_SOURCE_BATCH": "41",
        "CONNECTORS_ES_RETRY_SECONDS": "9",
    }
    options = RuntimeSettings.from_env(env, URL).sync_options(bulk_max_docs=7)
    assert (options.leases.heartbeat_seconds, options.leases.lease_seconds) == (0.5, 3.0)
    assert options.source_retry_seconds == 12.0
    assert (options.bulk_max_docs, options.source_batch) == (7, 41), "given wins over tuned"
    assert options.bulk_retry_seconds == 9.0, "the sink retries as long as the client"


def test_a_heartbeat_no_shorter_than_the_lease_is_refused() -> None:
    env = {"CONNECTORS_HEARTBEAT_SECONDS": "60", "CONNECTORS_LEASE_SECONDS": "60"}
    with pytest.raises(SettingError, match="CONNECTORS_HEARTBEAT_SECONDS=60 must be shorter"):
        RuntimeSettings.from_env(env, URL)


@pytest.mark.parametrize("value", ["0", "-3", "many", "4.5"])
def test_a_bad_batch_size_is_named(value: str) -> None:
    with pytest.raises(SettingError, match=f"CONNECTORS_SOURCE_BATCH must be .* {value!r}"):
        RuntimeSettings.from_env({"CONNECTORS_SOURCE_BATCH": value}, URL)


def test_only_the_settings_module_and_the_cli_touch_the_environment() -> None:
    """Every other module gets its settings passed down; nothing is read at import."""
    touching = set()
    for path in RUNTIME.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                touching.add(path.relative_to(RUNTIME).as_posix())
    assert touching == {"cli.py"}, touching
