"""Report numbers read as people write them."""

import pytest

from harness.bench.humanize import count, megabytes, per_second, ratio


@pytest.mark.parametrize(
    ("value", "shown"),
    [(21490.3, "21.5k"), (23900, "23.9k"), (1_000_003, "1M"), (950, "950"), (12.5, "12.5"),
     (0.0, "0"), (60000, "60k"), (2_540_000_000, "2.54G")],
)  # fmt: skip
def test_counts_use_si_suffixes_and_three_figures(value, shown):
    assert count(value) == shown


def test_units():
    assert per_second(21490.3) == "21.5k docs/s"
    assert per_second(12.34, "MB") == "12.3 MB/s"
    assert megabytes(85.4) == "85 MB" and megabytes(7.25) == "7.2 MB"
    assert ratio(0.5234) == "0.52x"
