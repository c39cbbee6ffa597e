"""The registry of service kinds.

Kinds come from the ``harness.services`` entry point group (ours, and any installed
package's), from the modules named in ``HARNESS_SERVICE_MODULES`` (comma-separated, for
kinds that live in a test tree and are not installed), and from ``register`` calls.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from harness import environment
from harness.environment import HarnessEnvironment
from harness.services.base import ServiceError
from harness.services.kind import ServiceKind

ENTRY_POINT_GROUP = "harness.services"
MODULES_ENV = environment.KIND_MODULES

_KINDS: dict[str, ServiceKind] = {}
_loaded = False


def register(kind: ServiceKind | type[ServiceKind]) -> ServiceKind:
    """Add a kind (an instance or a class); registering the same name again replaces it."""
    instance = kind() if isinstance(kind, type) else kind
    _KINDS[instance.name] = instance
    return instance


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            register(entry.load())
        except Exception as exc:
            raise ServiceError(
                f"service kind {entry.name!r} ({entry.value}) failed to load: {exc}"
            ) from exc
    for module in HarnessEnvironment.current().kind_modules:
        try:
            importlib.import_module(module)  # the module calls register()
        except ImportError as exc:
            raise ServiceError(f"{MODULES_ENV}: cannot import {module!r}: {exc}") from exc


def all_kinds() -> list[ServiceKind]:
    _load()
    return list(_KINDS.values())


def kind(name: str) -> ServiceKind:
    _load()
    try:
        return _KINDS[name]
    except KeyError:
        known = ", ".join(sorted(_KINDS)) or "none"
        raise ServiceError(f"unknown service kind {name!r}; registered kinds: {known}") from None
