"""PostgreSQL: source.py (the source), queries.py (plans and SQL), types.py (type mapping)."""
