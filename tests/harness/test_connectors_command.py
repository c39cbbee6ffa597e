"""The harness runs the runtime installed with its own interpreter, whatever ``connectors``
comes first on PATH (another environment's copy, or a launcher that costs a call 60 ms)."""

from __future__ import annotations

import os

from harness.services.es_http import ElasticsearchEndpoint
from harness.subjects.connectors_cli import run_connectors


def test_another_connectors_first_on_path_is_not_the_one_run(tmp_path, monkeypatch):
    impostor = tmp_path / "connectors"
    impostor.write_text("#!/bin/sh\necho impostor\nexit 99\n")
    impostor.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    es = ElasticsearchEndpoint("http://127.0.0.1:9", "9.5.4", "external")
    done = run_connectors(es, "--help")
    assert done.returncode == 0, done.stderr
    assert "impostor" not in done.stdout
    assert done.stdout.startswith("usage: connectors ")
