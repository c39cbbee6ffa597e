"""What a run costs: CPU seconds per process group (Elasticsearch, each source, the
``connectors`` processes, pytest), measured from the outside by ``harness cost``."""
