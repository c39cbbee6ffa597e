"""A kind defined outside the harness (``tests/harness/http_kind.py``) gets everything from
the registry: pytest options and fixtures, local start, reuse, external attach, and the
``harness`` CLI -- with no change to any other module."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.harness.helpers import running

pytestmark = pytest.mark.services
ROOT = Path(__file__).resolve().parents[2]

INNER_TEST = textwrap.dedent("""
    import json, os, pathlib
    from tests.harness.http_kind import GREETING, fetch

    def test_inner(http_service, http_endpoint):
        assert http_endpoint is http_service.endpoint
        assert fetch(http_endpoint.url) == GREETING
        record = {"url": http_endpoint.url, "backend": http_service.backend,
                  "pids": http_service.pids()}
        pathlib.Path(os.environ["INNER_OUT"]).write_text(json.dumps(record))
""")


@pytest.fixture
def kind_env(service_tmpdir: Path) -> dict[str, str]:
    return dict(
        os.environ,
        HARNESS_SERVICE_MODULES="tests.harness.http_kind",
        HARNESS_STATE_FILE=str(service_tmpdir / "services.json"),
        PYTHONPATH=str(ROOT),
    )


def inner(tmp_path: Path, env: dict[str, str], *args: str) -> dict:
    (tmp_path / "test_inner.py").write_text(INNER_TEST)
    out = tmp_path / "out.json"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--backend"]
    done = subprocess.run(
        [*command, "local", *args, str(tmp_path / "test_inner.py")],
        cwd=ROOT,
        env=env | {"INNER_OUT": str(out)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return json.loads(out.read_text())


def harness_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["harness", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_kind_brings_its_own_option():
    env = dict(os.environ, HARNESS_SERVICE_MODULES="tests.harness.http_kind", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--help"], env=env, capture_output=True, text=True
    )
    assert "--http-url" in done.stdout
    assert "HARNESS_HTTP_URL" in done.stdout


def test_started_locally_stopped_after(tmp_path, kind_env):
    record = inner(tmp_path, kind_env)
    assert record["backend"] == "local"
    assert record["url"].startswith("http://127.0.0.1:")
    assert record["pids"] and not [pid for pid in record["pids"] if running(pid)]


def test_reused_attached_as_external_and_listed_by_harness_status(tmp_path, kind_env):
    first = inner(tmp_path, kind_env, "--reuse-services")
    try:
        second = inner(tmp_path, kind_env, "--reuse-services")
        assert second["pids"] == first["pids"], "the second run started another server"
        assert all(running(pid) for pid in first["pids"])

        status = harness_cli(kind_env, "status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert any(
            line.startswith("http ") and first["url"] in line and " up " in line
            for line in status.stdout.splitlines()
        ), status.stdout

        external = inner(tmp_path, kind_env, "--backend", "external", "--http-url", first["url"])
        assert external["backend"] == "external"
        assert external["url"] == first["url"]
    finally:
        down = harness_cli(kind_env, "down")
    assert "http" in down.stdout
    assert not [pid for pid in first["pids"] if running(pid)]
