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
