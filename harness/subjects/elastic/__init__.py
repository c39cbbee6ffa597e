"""Elastic's own connectors framework (github elastic/connectors) as a test subject: their
service runs a connector of theirs from the user's checkout or virtualenv against the
harness's Elasticsearch, and the standard suite judges what it leaves in the index through a
per-source shape adapter (docs/elastic-subject.md)."""
