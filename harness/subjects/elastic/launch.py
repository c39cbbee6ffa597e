"""Their service started for a scenario to disrupt: a process the scenario kills or
signals, with its front and config.yml kept alive exactly as long as it runs."""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import yaml

from harness.services.es_http import ElasticsearchEndpoint
from harness.subjects.elastic.front import es_front
from harness.subjects.elastic.records import service_config
from harness.subjects.processes import start_guarded


def write_config(
    workdir: Path,
    front_url: str,
    endpoint: ElasticsearchEndpoint,
    connector: dict[str, Any],
) -> Path:
    """config.yml for this one connector, readable by its owner only: it holds the
    source's password."""
    config = service_config(
        front_url, endpoint.basic_auth(), connector["id"], connector["service_type"]
    )
    path = workdir / "config.yml"
    path.touch(mode=0o600)
    path.write_text(yaml.safe_dump(config))
    return path


def launch_service(
    service: Path,
    endpoint: ElasticsearchEndpoint,
    main: dict[str, Any],
    connector: dict[str, Any],
    log: IO[str],
    env: Mapping[str, str],
) -> subprocess.Popen[str]:
    """``elastic-ingest`` in the background, output to ``log``. Its front and working
    directory are released by a watcher once it exits, however it exits."""
    stack = ExitStack()
    try:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="harness-elastic-")))
        front_url = stack.enter_context(es_front(endpoint, main))
        config = write_config(workdir, front_url, endpoint, connector)
        process = start_guarded(
            [str(service), "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env=dict(env),
            cwd=workdir,
        )
    except BaseException:
        stack.close()
        raise

    def release() -> None:
        process.wait()
        stack.close()

    threading.Thread(target=release, name="elastic-service-watch", daemon=True).start()
    return process
