"""Where the user's copy of Elastic's framework is, and what it says about itself.

The framework's package is also called ``connectors``, like our runtime, so it never runs in
this interpreter: every call goes through the Python of its own virtualenv."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import environment
from harness.environment import HarnessEnvironment
from harness.subjects import SubjectUnavailable

ENV_VARIABLE = environment.ELASTIC_CONNECTORS
# Where a virtualenv may sit in a checkout of github.com/elastic/connectors.
CHECKOUT_VENVS = ("app/connectors_service/.venv", ".venv", "venv")
_ABOUT = """
import importlib.metadata, json
print(json.dumps({"version": importlib.metadata.version("elasticsearch-connectors")}))
"""
_DEFAULTS = """
import json, sys
from connectors.config import _default_config
from connectors.utils import get_source_klass
klass = get_source_klass(_default_config()["sources"][sys.argv[1]])
print(json.dumps(klass.get_default_configuration()))
"""


class FrameworkNotFound(SubjectUnavailable):
    """No usable copy of Elastic's framework: the message says where it looked and how to
    give one."""


@dataclass(frozen=True)
class ElasticFramework:
    python: Path  # the interpreter of the virtualenv the framework is installed in
    version: str

    def describe(self) -> str:
        return f"Elastic's connectors framework {self.version} ({self.python})"

    @property
    def service(self) -> Path:
        """Their long-running service (``elastic-ingest``)."""
        return self.python.parent / "elastic-ingest"

    @classmethod
    def locate(cls, given: str | None = None) -> ElasticFramework:
        """``given`` (an option), else $HARNESS_ELASTIC_CONNECTORS: a virtualenv the framework
        is installed in, or a checkout holding one."""
        raw = given or HarnessEnvironment.current().elastic_connectors
        if not raw:
            raise FrameworkNotFound(
                "no copy of Elastic's connectors framework is configured: give a virtualenv "
                f"it is installed in (or a checkout holding one) with --elastic-connectors "
                f"PATH or ${ENV_VARIABLE}; `harness fetch --elastic-connectors-checkout "
                "PATH` builds one from a checkout"
            )
        root = Path(raw).expanduser()
        candidates = [root, *(root / venv for venv in CHECKOUT_VENVS)]
        for venv in candidates:
            python = venv / "bin" / "python"
            if python.exists() and (venv / "bin" / "elastic-ingest").exists():
                return cls(python, _about(python)["version"])
        looked = ", ".join(str(c) for c in candidates)
        raise FrameworkNotFound(
            f"{root}: no virtualenv with Elastic's framework installed (looked for "
            f"bin/elastic-ingest in {looked}); in a checkout, run their `make install` or "
            "`harness fetch --elastic-connectors-checkout PATH`"
        )

    def default_configuration(self, service_type: str) -> dict[str, Any]:
        """The source's configuration schema, as their Kibana would store it."""
        return dict(_run_json(self.python, _DEFAULTS, service_type))


def _about(python: Path) -> dict[str, Any]:
    return dict(_run_json(python, _ABOUT))


def _run_json(python: Path, code: str, *args: str) -> Any:
    done = subprocess.run(
        # Isolated (-I): neither the current directory nor PYTHONPATH, where our own
        # ``connectors`` package may be found first.
        [str(python), "-I", "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise FrameworkNotFound(
            f"{python} could not answer ({done.returncode}): {done.stderr.strip()[-600:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])
