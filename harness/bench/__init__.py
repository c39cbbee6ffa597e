"""Throughput benchmarks: measuring syncs against the raw-bulk ceiling of the same
Elasticsearch, saving results, comparing runs with a noise-aware decision, and reporting."""
