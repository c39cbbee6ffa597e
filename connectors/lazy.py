"""Heavy modules imported on first use, not at start-up: a sync of an empty source never
touches numpy, and ``connectors --help`` does not wait for it (docs/performance.md).

Not ``importlib.util.LazyLoader``: that registers the module in ``sys.modules`` at once,
and libraries that look there (psycopg does, for numpy) then load it anyway."""

from __future__ import annotations

import importlib
from typing import Any


class Deferred:
    """Stands for module ``name``; imports it when one of its attributes is first read."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)


def lazy_module(name: str) -> Any:
    return Deferred(name)
