"""Sources register by name through the ``connectors.sources`` entry point group, so a
third-party package plugs in by declaring one line in its own metadata."""

from __future__ import annotations

from importlib.metadata import entry_points

from connectors.source import BaseDataSource

GROUP = "connectors.sources"


class UnknownSourceError(LookupError):
    pass


def available_sources() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=GROUP)}


def load_source(name: str) -> type[BaseDataSource]:
    for ep in entry_points(group=GROUP):
        if ep.name == name:
            cls = ep.load()
            if not (isinstance(cls, type) and issubclass(cls, BaseDataSource)):
                raise UnknownSourceError(
                    f"entry point {name!r} ({ep.value}) is not a BaseDataSource"
                )
            return cls
    known = ", ".join(sorted(available_sources())) or "none"
    raise UnknownSourceError(f"no source named {name!r}; installed sources: {known}")
