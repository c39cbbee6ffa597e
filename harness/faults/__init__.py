"""Fault injection: a proxy to put between a connector and Elasticsearch or its source."""
