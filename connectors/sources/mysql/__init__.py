"""MySQL/MariaDB: source.py, queries.py (plans and SQL), discovery.py (tables and
queries), driver.py (what the connector changes in asyncmy)."""
