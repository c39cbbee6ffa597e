"""What the user asked for: the backend, reuse, and one frozen config per service kind.

Each option is read from its command-line flag, then its environment variable, then the
ini file (``harness_<kind>_<field>`` under ``[tool.pytest.ini_options]``), then its default.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.services import registry
from harness.services.base import ServiceError
from harness.services.kind import OptionSpec, ServiceConfig

BACKENDS = ("auto", "local", "docker", "external")
TRUE = ("1", "true", "yes", "on")


def dest(kind_name: str, spec: OptionSpec) -> str:
    """The argparse/pytest destination and the ini key of an option."""
    return f"harness_{kind_name}_{spec.field}"


@dataclass(frozen=True)
class HarnessOptions:
    backend: str = "auto"
    reuse: bool = False
    configs: Mapping[str, ServiceConfig] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ServiceError(
                f"unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}"
            )

    def config(self, kind_name: str) -> Any:
        try:
            return self.configs[kind_name]
        except KeyError:
            return registry.kind(kind_name).config_class()

    @classmethod
    def resolve(
        cls,
        flag_value: Callable[[str], Any] = lambda _dest: None,
        ini_value: Callable[[str], Any] = lambda _dest: None,
        *,
        backend: str | None = None,
        reuse: bool | None = None,
    ) -> HarnessOptions:
        """``flag_value`` and ``ini_value`` answer by destination name (None: not given)."""
        env = os.environ
        configs = {}
        for kind in registry.all_kinds():

            def lookup(spec: OptionSpec, name: str = kind.name) -> Any:
                key = dest(name, spec)
                for value in (flag_value(key), env.get(spec.env), ini_value(key)):
                    if value not in (None, ""):
                        return value
                return None

            configs[kind.name] = kind.config_class.resolve(lookup)
        return cls(
            backend=backend or env.get("HARNESS_BACKEND") or "auto",
            reuse=reuse if reuse is not None else env.get("HARNESS_REUSE_SERVICES", "") in TRUE,
            configs=configs,
        )

    @classmethod
    def from_env(cls, **overrides: Any) -> HarnessOptions:
        """Environment only, with overrides by destination (``harness_postgresql_dsn``) or
        ``backend`` / ``reuse``: for scripts and tests."""
        backend = overrides.pop("backend", None)
        reuse = overrides.pop("reuse", None)
        return cls.resolve(lambda key: overrides.get(key), backend=backend, reuse=reuse)
