"""S3: source.py, client.py (the HTTP API), signing.py (SigV4), rules.py (sync rules)."""
