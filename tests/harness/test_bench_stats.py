import random

import pytest

from harness.bench.stats import bootstrap_ratio_ci, compare, mann_whitney_less


def test_mann_whitney_exact_extremes():
    assert mann_whitney_less([10, 11, 12, 13, 14], [1, 2, 3, 4, 5]) == pytest.approx(1 / 252)
    assert mann_whitney_less([1, 2, 3, 4, 5], [10, 11, 12, 13, 14]) == 1.0
    assert 0.3 < mann_whitney_less([1, 3, 5, 7, 9], [2, 4, 6, 8, 10]) < 0.8


def test_mann_whitney_large_samples_use_the_normal_approximation():
    rng = random.Random(3)
    a = [rng.gauss(100, 5) for _ in range(40)]
    b = [rng.gauss(90, 5) for _ in range(40)]
    assert mann_whitney_less(a, b) < 1e-6
    assert mann_whitney_less(b, a) > 0.99


def test_noise_alone_is_not_a_regression():
    rng = random.Random(7)
    flagged = 0
    for _ in range(200):
        base = [rng.gauss(1000, 80) for _ in range(5)]
        new = [rng.gauss(1000, 80) for _ in range(5)]
        flagged += compare("docs/s", base, new).regression
    assert flagged <= 2, f"{flagged} false alarms out of 200 unchanged comparisons"


def test_a_material_slowdown_is_a_regression():
    rng = random.Random(11)
    caught = 0
    for _ in range(50):
        base = [rng.gauss(1000, 80) for _ in range(5)]
        new = [rng.gauss(700, 60) for _ in range(5)]
        verdict = compare("docs/s", base, new)
        caught += verdict.regression
    assert caught >= 45
    assert "REGRESSION" in verdict.describe()


def test_a_significant_but_tiny_change_is_not_a_regression():
    base = [1000, 1001, 1002, 1003, 1004]
    new = [990, 991, 992, 993, 994]  # 1% slower, perfectly separated
    verdict = compare("docs/s", base, new, threshold=0.10)
    assert verdict.p_value < 0.05 and not verdict.regression


def test_bootstrap_is_deterministic_and_brackets_the_ratio():
    base, new = [100, 102, 98, 101, 99], [80, 82, 79, 81, 78]
    assert bootstrap_ratio_ci(base, new) == bootstrap_ratio_ci(base, new)
    low, high = bootstrap_ratio_ci(base, new)
    assert low <= 0.8 <= high < 1


def test_too_few_samples_is_an_error():
    with pytest.raises(ValueError, match="at least 3 samples"):
        compare("x", [1, 2], [1, 2, 3])
