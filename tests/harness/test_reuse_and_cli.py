"""--reuse-services and the `harness` CLI against real services."""

import os
import stat
import subprocess
import time

import pytest

from harness.services.options import HarnessOptions
from harness.services.provider import shutdown_recorded, start_reusable
from harness.services.reuse import read_state, state_path
from tests.harness.helpers import running

pytestmark = pytest.mark.services


@pytest.fixture
def private_state(service_tmpdir, monkeypatch):
    monkeypatch.setenv("HARNESS_STATE_FILE", str(service_tmpdir / "services.json"))
    yield
    shutdown_recorded()


def test_a_second_run_attaches_to_the_kept_postgres(private_state):
    options = HarnessOptions(backend="local", reuse=True)
    first = start_reusable("postgresql", options)
    started = time.monotonic()
    second = start_reusable("postgresql", options)
    attach_seconds = time.monotonic() - started
    assert second.endpoint == first.endpoint
    assert second.pgid == first.pgid
    assert attach_seconds < 5, f"attaching took {attach_seconds:.1f}s"
    # The state file holds the password, so only its owner may read it.
    assert stat.S_IMODE(state_path().stat().st_mode) == 0o600
    second.stop()  # a reused service's stop() keeps it for the next run
    assert running(first.pgid)
    assert shutdown_recorded() == ["postgresql"]
    assert not running(first.pgid)
    assert not os.path.exists(first.workdir)


def test_a_dead_recorded_service_is_replaced(private_state):
    options = HarnessOptions(backend="local", reuse=True)
    first = start_reusable("postgresql", options)
    first.shutdown()
    second = start_reusable("postgresql", options)
    assert second.pgid != first.pgid
    assert running(second.pgid)


def harness_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["harness", *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_cli_up_status_down(private_state):
    up = harness_cli("up", "--detach")
    assert up.returncode == 0, up.stderr
    state = read_state()
    password = state["postgresql"]["endpoint"]["password"]
    assert password not in up.stdout + up.stderr, "`harness up` printed the password"
    assert "postgresql://harness:***@127.0.0.1:" in up.stdout
    assert state["elasticsearch"]["endpoint"]["url"] in up.stdout

    status = harness_cli("status")
    assert status.returncode == 0
    assert status.stdout.count("  up  ") == 2
    assert password not in status.stdout
    assert password in harness_cli("status", "--show-secrets").stdout

    pgids = [state[name]["pgid"] for name in ("elasticsearch", "postgresql")]
    down = harness_cli("down")
    assert down.stdout.strip() == "stopped: elasticsearch, postgresql"
    assert not any(running(pgid) for pgid in pgids)
    assert harness_cli("status").returncode == 1


def test_reuse_keys_on_the_requested_version(private_state):
    """A kept 9.x node is not handed to a run that asks for 8.x."""
    from harness.services.reuse import locked_state

    with locked_state() as state:
        state["elasticsearch"] = {
            "key": "local elasticsearch 0.0.0",
            "url": "http://127.0.0.1:9",
            "version": "0.0.0",
            "pgid": 999999999,
            "workdir": "/nonexistent",
        }
    options = HarnessOptions.from_env(
        backend="local", reuse=True, harness_elasticsearch_version="8.19.21"
    )
    node = start_reusable("elasticsearch", options)
    assert node.endpoint.version == "8.19.21"
    assert read_state()["elasticsearch"]["key"] == "local elasticsearch 8.19.21 jit=quick"
