"""Data sources. Each registers by name through the ``connectors.sources`` entry point."""
