"""The capability registry: every capability declared once, every ``@requires`` naming a
registered one in the module the registry says, and a declaration that cannot be
honoured (an unknown name, a fixture without a method a capability needs) refused when
it is made, naming the fix."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest

import harness.suite
from harness.capabilities import CAPABILITIES, CapabilityError, Pagination, requires
from harness.scenario import ConnectorScenario


def scenarios_by_capability() -> dict[str, set[str]]:
    """``@requires`` marks over every suite module: capability -> modules using it."""
    found: dict[str, set[str]] = {}
    for module in pkgutil.iter_modules(harness.suite.__path__):
        loaded = importlib.import_module(f"harness.suite.{module.name}")
        for cls in vars(loaded).values():
            if not isinstance(cls, type) or cls.__module__ != loaded.__name__:
                continue
            for test in vars(cls).values():
                for mark in getattr(test, "pytestmark", ()):
                    if mark.name == "requires":
                        for name in mark.args:
                            found.setdefault(name, set()).add(module.name)
    return found


def test_every_capability_has_scenarios_in_its_module_and_no_other_is_required():
    used = scenarios_by_capability()
    assert set(used) == set(CAPABILITIES)
    for name, modules in used.items():
        assert modules == set(CAPABILITIES[name].modules), (name, modules)


class Fixture:
    def __init__(self, *_args: Any) -> None:
        pass


class PaginatingFixture(Fixture):
    def load_pages(self, pages: int) -> int:
        return pages * 2


def test_a_misspelt_capability_is_refused_naming_the_nearest():
    with pytest.raises(
        CapabilityError, match=r"unknown capability 'paginaton': did you mean 'pagination'\?"
    ):
        ConnectorScenario("demo", "postgresql", PaginatingFixture, frozenset({"paginaton"}))
    with pytest.raises(CapabilityError, match="unknown capability 'incremantal'"):
        requires("incremantal")


def test_a_fixture_without_a_capabilitys_methods_is_refused_naming_them():
    with pytest.raises(CapabilityError) as refused:
        ConnectorScenario("demo", "postgresql", Fixture, frozenset({"pagination", "dls"}))
    message = str(refused.value)
    assert (
        "Fixture declares 'dls' but lacks dls_configuration, visible_ids, change_access" in message
    )
    assert (
        "Fixture declares 'pagination' but lacks load_pages (harness.capabilities.Pagination)"
        in message
    )
    ConnectorScenario("demo", "postgresql", PaginatingFixture, frozenset({"pagination"}))


def test_a_protocols_methods_include_those_it_extends():
    assert CAPABILITIES["faults"].methods == ("source_address", "configuration_through")
    assert CAPABILITIES["incremental"].methods == (
        "source_address",
        "configuration_through",
        "insert_at_latest_cursor",
    )
    assert CAPABILITIES["pagination"].fixture is Pagination
