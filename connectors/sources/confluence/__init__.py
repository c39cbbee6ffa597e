"""Confluence: source.py, client.py (the HTTP API), read.py (the listing), acl.py (permissions)."""
