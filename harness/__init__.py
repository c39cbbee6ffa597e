"""End-to-end test harness for search connectors: real services, sync runs, outcome checks."""
