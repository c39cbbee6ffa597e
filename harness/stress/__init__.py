"""The flake finder: run a suite many times on a loaded machine, in random order, and
report each test's failure rate with the failing runs' messages kept."""
