"""Search connectors runtime: sync a data source into Elasticsearch.

The runtime knows nothing about the test harness; the harness drives it through its
public API and its CLI.
"""
