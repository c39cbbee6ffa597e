"""The machine-level settings the harness takes from its environment, in one place.

These say *where* things are on this machine (scratch space, the cache, the service
state file, a Maven mirror, the user servers run as, a copy of Elastic's framework) and
so are shared by the ``harness`` command, pytest and its xdist workers. Run-level choices
(subject, corpus, seed, backend, per-kind service settings) are resolved once from flags,
environment and ini by ``harness.plugin.options`` and ``harness.services.options``.

Every value is read when it is asked for, never at import: a test or a command that sets a
variable before it calls in is heard. No other module reads a ``HARNESS_*`` variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness import defaults

TMPDIR = "HARNESS_TMPDIR"
STATE_FILE = "HARNESS_STATE_FILE"
CACHE_DIR = "HARNESS_CACHE_DIR"
MAVEN_SETTINGS = "HARNESS_MAVEN_SETTINGS"
SERVICE_USER = "HARNESS_SERVICE_USER"
KIND_MODULES = "HARNESS_SERVICE_MODULES"
ELASTIC_CONNECTORS = "HARNESS_ELASTIC_CONNECTORS"
ELASTIC_JOB_TIMEOUT = "HARNESS_ELASTIC_JOB_TIMEOUT"
CONNECTOR_TZ = "HARNESS_CONNECTOR_TZ"
SERVICES_OWNER = "HARNESS_SERVICES_OWNER"


@dataclass(frozen=True)
class HarnessEnvironment:
    values: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def current(cls) -> HarnessEnvironment:
        """This process's environment, as it is now."""
        return cls(dict(os.environ))

    def _path(self, name: str) -> Path | None:
        given = self.values.get(name)
        return Path(given) if given else None  # empty counts as unset

    @property
    def tmpdir(self) -> Path | None:
        return self._path(TMPDIR)

    @property
    def state_file(self) -> Path | None:
        return self._path(STATE_FILE)

    @property
    def cache_dir(self) -> Path | None:
        return self._path(CACHE_DIR)

    @property
    def xdg_cache_home(self) -> Path | None:
        return self._path("XDG_CACHE_HOME")

    @property
    def maven_settings(self) -> str | None:
        return self.values.get(MAVEN_SETTINGS) or None

    @property
    def services_owner(self) -> int | None:
        """The process that detached services started now belong to, when a test runs
        inner runs with --reuse-services: they are stale (and stopped) once it is gone,
        however it died. Unset, a detached service belongs to itself (``harness up``)."""
        given = self.values.get(SERVICES_OWNER, "")
        return int(given) if given.isdigit() else None

    @property
    def service_user(self) -> str:
        return self.values.get(SERVICE_USER) or defaults.SERVICE_USER

    @property
    def kind_modules(self) -> list[str]:
        """Modules that register service kinds beside the entry points."""
        raw = self.values.get(KIND_MODULES, "")
        return [module.strip() for module in raw.split(",") if module.strip()]

    @property
    def elastic_connectors(self) -> str | None:
        return self.values.get(ELASTIC_CONNECTORS) or None

    @property
    def elastic_job_timeout(self) -> float:
        raw = self.values.get(ELASTIC_JOB_TIMEOUT)
        if not raw:
            return defaults.ELASTIC_JOB_TIMEOUT
        try:
            seconds = float(raw)
        except ValueError:
            seconds = -1.0
        if not 0 < seconds < float("inf"):
            raise ValueError(f"{ELASTIC_JOB_TIMEOUT}={raw!r}: expected a number of seconds above 0")
        return seconds

    @property
    def connector_timezone(self) -> str:
        """The zone connector processes run in: not UTC, unless the user says so."""
        return self.values.get(CONNECTOR_TZ, defaults.CONNECTOR_TIMEZONE)

    @property
    def xdist_worker(self) -> str:
        return self.values.get("PYTEST_XDIST_WORKER", "")
