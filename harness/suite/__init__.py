"""The standard suite a connector inherits by declaring itself (``StandardSuite``):
the scenarios every connector runs are in ``standard.py``; each other module holds the
scenarios of one capability (``harness/capabilities.py`` lists them, with the fixture
methods each needs)."""

from harness.suite.standard import StandardSuite

__all__ = ["StandardSuite"]
