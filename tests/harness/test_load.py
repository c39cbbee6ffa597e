"""Deadlines that scale with the measured load: 1 on a calm machine, the runnable
processes per core over the calm level on a busy one, capped so that a starved run still
fails by a deadline."""

from __future__ import annotations

import pytest

from harness.faults.disruption import quick_lease
from harness.load import CAP, Load


@pytest.mark.parametrize(
    ("average", "cores", "factor"),
    [(0.0, 2, 1.0), (4.0, 2, 1.0), (8.0, 2, 2.0), (20.0, 2, CAP), (20.0, 8, 1.25)],
)
def test_the_factor_follows_runnable_processes_per_core(
    average: float, cores: int, factor: float
) -> None:
    assert Load(average, cores).factor == pytest.approx(factor)


def test_a_scaled_deadline_says_why_it_is_longer() -> None:
    load = Load(12.0, 2)
    assert load.scaled(180) == pytest.approx(540)
    assert load.says() == "x3.0 for load 12.0 on 2 cores"


def test_the_quick_lease_keeps_its_heartbeat_ratio_as_it_scales() -> None:
    calm, busy = quick_lease(Load(1.0, 2)), quick_lease(Load(12.0, 2))
    assert calm == {"CONNECTORS_HEARTBEAT_SECONDS": "0.50", "CONNECTORS_LEASE_SECONDS": "3.00"}
    assert busy == {"CONNECTORS_HEARTBEAT_SECONDS": "1.50", "CONNECTORS_LEASE_SECONDS": "9.00"}


def test_the_machine_is_measured() -> None:
    load = Load.now()
    assert load.cores >= 1 and load.average >= 0 and 1.0 <= load.factor <= CAP
