"""Every capability a connector can declare, declared once: its name, what it promises,
the fixture methods its scenarios call (a Protocol), and the suite module holding those
scenarios. A connector's scenario declaration is checked against this registry when it
is made (at collection): an unknown capability, or a fixture lacking a method that a
declared capability needs, is an error naming the fix, never a silent skip.

Adding a capability: a Protocol and a ``Capability`` here, its scenarios in
``harness/suite/<module>.py`` marked ``@requires("<name>")``, and the methods in the
fixtures of the connectors that declare it."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Protocol

import pytest

from harness.cases import BreakOut, InvalidRule, RuleCase


class Proxied(Protocol):
    """The source reachable through a proxy the harness puts in front of it (to count
    the bytes a sync reads, or to cut and slow its connection)."""

    def source_address(self) -> tuple[str, int]:
        """Where the source listens (TCP)."""
        ...

    def configuration_through(self, address: tuple[str, int]) -> dict[str, Any]:
        """``configuration()`` pointed at ``address`` (the proxy) instead."""
        ...


class Versions(Proxied, Protocol):
    """Bytes read by an unchanged re-sync are counted through the proxy."""


class Incremental(Proxied, Protocol):
    def insert_at_latest_cursor(self, count: int) -> Any:
        """``count`` new rows committed now whose cursor value equals the greatest one
        already in the source; returns the mutation."""
        ...


class Faults(Proxied, Protocol):
    """The source's connection is cut and slowed through the proxy."""


class RejectedDocuments(Protocol):
    def load_rejects(self) -> tuple[dict[str, Any], list[str]]:
        """Rows Elasticsearch must reject under an explicit mapping; returns (the
        mapping's properties, the ids to be rejected)."""
        ...


class ExactRevert(Protocol):
    def change_and_revert(self, update: float) -> int:
        """Change a fraction of rows and put them back (A -> B -> A); returns how many."""
        ...


class TablePrivileges(Protocol):
    def revoke_read(self) -> str:
        """Revoke the connector's read access to one small table (loaded by
        ``load_edge_cases``); return its name as errors must give it."""
        ...


class CustomQuerySafety(Protocol):
    def break_outs(self) -> list[BreakOut]:
        """Create what the break-outs aim at, and return them
        (``harness.suite.custom_queries.BreakOut``, every class tried)."""
        ...

    def inventory(self) -> Any:
        """What the database holds, comparable with ``==`` (tables and contents,
        sequences, routines, files the server could write)."""
        ...

    def privileged_configuration(self, queries: list[dict[str, Any]]) -> dict[str, Any]:
        """The connector's configuration with these custom queries, run as a user who may
        write anything."""
        ...


class SyncRules(Protocol):
    def rule_cases(self) -> list[RuleCase]:
        """``harness.suite.sync_rules.RuleCase``s over the corpus of ``load("tiny")`` and
        ``load_edge_cases()``, each selecting some documents, not all."""
        ...

    def invalid_rules(self) -> list[InvalidRule]:
        """``harness.suite.sync_rules.InvalidRule``s."""
        ...


class Pagination(Protocol):
    def load_pages(self, pages: int) -> int:
        """Small documents in one place (a prefix, a space), enough for ``pages`` pages of
        the connector's listing as this fixture configures it, the last one part-full;
        returns how many. A fixture may set a small page size: what is judged is the
        boundaries, and ten of them cost the same whatever a page holds."""
        ...


class RateLimited(Protocol):
    def rate_limit(self, requests: int, window_s: float, retry_after_s: int) -> None:
        """From now on, beyond ``requests`` per ``window_s`` the source answers 429 with
        ``Retry-After: retry_after_s``."""
        ...

    def rate_limit_report(self) -> tuple[int, float | None]:
        """How many requests were refused, and the shortest wait the connector left after
        a 429 minus what it was asked to wait (negative: too early)."""
        ...


class UnstablePagination(Protocol):
    def churn_during_reads(self, changes_per_page: int) -> None:
        """From now on, after every answer that has a next page, ``changes_per_page``
        items are added or removed (0: calm again)."""
        ...

    def churn_report(self) -> int:
        """How many such changes have landed."""
        ...


class Dls(Protocol):
    def dls_configuration(self) -> dict[str, Any]:
        """``configuration()`` with document-level security on."""
        ...

    def visible_ids(self) -> dict[str, set[str]]:
        """For every user (by the id of their identity document), the ids of the
        documents the source lets them read, from the source's own state."""
        ...

    def change_access(self) -> str:
        """Change who may read what (a restriction, a membership) so that what at least
        two users see moves; return a description of the change."""
        ...


@dataclass(frozen=True)
class Capability:
    name: str
    promise: str  # what a connector declaring it claims, as its scenarios check it
    fixture: type[Any]  # the Protocol of fixture methods its scenarios call
    modules: tuple[str, ...]  # harness.suite.<module>s holding its scenarios

    @property
    def methods(self) -> tuple[str, ...]:
        """The Protocol's methods, its own and those of the Protocols it extends."""
        found: dict[str, None] = {}
        for klass in reversed(self.fixture.__mro__):
            if getattr(klass, "_is_protocol", False) and klass is not Protocol:
                found |= {n: None for n, v in vars(klass).items() if callable(v) and n[0] != "_"}
        return tuple(found)


CAPABILITIES = {
    c.name: c
    for c in (
        Capability("incremental", "syncs changes since a cursor", Incremental, ("incremental",)),
        Capability("versions", "an unchanged re-sync reads far less", Versions, ("standard",)),
        Capability("faults", "rides through faults and crashes", Faults, ("faults", "crashes")),
        Capability(
            "rejected_documents",
            "names every document ES rejects",
            RejectedDocuments,
            ("scope",),
        ),
        Capability("exact_revert", "a change undone writes nothing", ExactRevert, ("standard",)),
        Capability(
            "table_privileges",
            "an unreadable table deletes nothing",
            TablePrivileges,
            ("standard",),
        ),
        Capability(
            "custom_query_safety",
            "custom queries only read",
            CustomQuerySafety,
            ("custom_queries",),
        ),
        Capability("sync_rules", "basic sync rules select exactly", SyncRules, ("sync_rules",)),
        Capability("pagination", "reads every page of a listing", Pagination, ("pagination",)),
        Capability("rate_limited", "waits out 429s as long as asked", RateLimited, ("saas",)),
        Capability(
            "unstable_pagination", "loses nothing while pages churn", UnstablePagination, ("saas",)
        ),
        Capability("dls", "every user sees exactly what they may read", Dls, ("dls",)),
    )
}


class CapabilityError(ValueError):
    """A declaration or a ``@requires`` that the registry cannot honour."""


def unknown(name: str) -> str:
    near = difflib.get_close_matches(name, CAPABILITIES, n=1)
    hint = f"did you mean {near[0]!r}? " if near else ""
    return (
        f"unknown capability {name!r}: {hint}known: {', '.join(sorted(CAPABILITIES))} "
        "(harness/capabilities.py declares them)"
    )


def requires(*names: str) -> pytest.MarkDecorator:
    """``@requires("incremental")``: the scenario runs only for connectors declaring it.
    A name the registry does not know fails at import, naming the nearest."""
    for name in names:
        if name not in CAPABILITIES:
            raise CapabilityError(unknown(name))
    return pytest.mark.requires(*names)


def missing_methods(fixture: Any, capabilities: frozenset[str]) -> dict[str, list[str]]:
    """For each declared capability, the fixture methods it needs that ``fixture`` (a
    class) lacks."""
    return {
        name: missing
        for name in sorted(capabilities)
        if (missing := [m for m in CAPABILITIES[name].methods if not hasattr(fixture, m)])
    }


def check_declaration(connector: str, fixture: Any, capabilities: frozenset[str]) -> None:
    """Raise CapabilityError naming every unknown capability and every missing method."""
    problems = [unknown(name) for name in sorted(capabilities) if name not in CAPABILITIES]
    if not problems and isinstance(fixture, type):
        for name, methods in missing_methods(fixture, capabilities).items():
            protocol = CAPABILITIES[name].fixture.__name__
            problems.append(
                f"{fixture.__name__} declares {name!r} but lacks {', '.join(methods)} "
                f"(harness.capabilities.{protocol}): add them, or drop {name!r}"
            )
    if problems:
        raise CapabilityError(f"connector {connector!r}: " + "; ".join(problems))
