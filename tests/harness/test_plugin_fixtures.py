"""The plugin declares the fixtures of the kinds this package registers by name (so that
``grep mysql_endpoint`` finds where it comes from); kinds of other distributions get
theirs from other_kind_fixtures() (tests/harness/test_new_service_kind.py)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from harness.plugin import hooks

ROOT = Path(__file__).resolve().parents[2]


def test_every_kind_this_package_registers_has_its_fixtures_by_name():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    registered = set(project["entry-points"]["harness.services"])
    assert registered == hooks.OWN_KINDS
    for kind in registered:
        for fixture in (f"{kind}_service", f"{kind}_endpoint"):
            assert hasattr(hooks, fixture), f"harness/plugin/hooks.py declares no {fixture}"


class _Config:
    def __init__(self, benchmark_only: bool) -> None:
        self.benchmark_only = benchmark_only

    def getoption(self, name: str, default: object = None) -> object:
        return self.benchmark_only if name == "benchmark_only" else default


class _Item:
    def __init__(self, skipped: bool, fixturenames: tuple[str, ...], benchmark_only: bool):
        self.skipped, self.fixturenames = skipped, fixturenames
        self.config = _Config(benchmark_only)

    def get_closest_marker(self, name: str) -> object:
        return object() if name == "skip" and self.skipped else None


def test_a_private_node_is_started_early_only_for_scenarios_that_will_run() -> None:
    """A second node (1 GB, a JVM start) was started for disruptive scenarios that were
    all skipped: a connector without 'faults', or a --benchmark-only run."""
    from harness.plugin.services import may_run

    assert may_run(_Item(False, ("run",), benchmark_only=False))  # type: ignore[arg-type]
    assert not may_run(_Item(True, ("run",), benchmark_only=False))  # type: ignore[arg-type]
    assert not may_run(_Item(False, ("run",), benchmark_only=True))  # type: ignore[arg-type]
    assert may_run(_Item(False, ("benchmark",), benchmark_only=True))  # type: ignore[arg-type]
