"""Everything that talks to Elasticsearch: client, bulk sink, index snapshot, state."""
