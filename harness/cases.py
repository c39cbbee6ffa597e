"""The data a fixture hands to the capability scenarios: what a sync rule must select
(``sync_rules``) and the break-outs a custom query tries (``custom_query_safety``). They
live apart from the scenarios so that fixtures depend on the contract, not on the suite."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RuleCase:
    """A rule as the user configures it, and the documents it must select."""

    name: str
    configuration: dict[str, Any]  # merged into the fixture's configuration
    selects: Callable[[str, dict[str, Any]], bool]  # (id, expected document) -> taken?
    # Basic rules ({field, rule, value, policy, order}), applied by the runtime to any source.
    basic_rules: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class InvalidRule:
    name: str
    configuration: dict[str, Any]
    words: tuple[str, ...] = field(default=())  # the error must contain each
    basic_rules: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class BreakOut:
    """One attempt: its class (one of BREAK_OUT_CLASSES), a name, the custom query's text,
    and whether the connector must refuse it outright (several statements) rather than
    merely read it harmlessly."""

    kind: str
    name: str
    query: str
    refused: bool = False


# For a connector that embeds the query as a subquery (``SELECT * FROM (<query>) AS t ...``):
# close it, run statements of one's own, and reopen one for the rest of the text.
CLOSE, REOPEN = ") AS t LIMIT 0; ", "; SELECT * FROM (SELECT 1 AS id"


def closing_subquery(kind: str, name: str, opener: str, *statements: str) -> BreakOut:
    """A break-out through a second statement; the connector must refuse it."""
    return BreakOut(kind, name, opener + CLOSE + "; ".join(statements) + REOPEN, refused=True)
