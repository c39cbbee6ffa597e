"""Test-only switch: put this directory and the repository's root on PYTHONPATH and set
HARNESS_TEST_BROKEN_VARIANT=NAME, and every Python process started with them runs broken
variant NAME of tests/harness/broken_variants.py. A variant otherwise lives in the test
process only, where the in-process subject runs; a scenario about a `connectors service`
process (the cli subject) needs it in that process. Nothing ships it."""

import os

_NAME = os.environ.get("HARNESS_TEST_BROKEN_VARIANT")

if _NAME:
    from tests.harness.broken_variants import VARIANTS

    VARIANTS[_NAME]()
