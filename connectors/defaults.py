"""Every default of the runtime, in one place: the sync engine, the bulk sink, the job
runner and the CLI read them from here (and so does the harness's benchmark ceiling,
which must batch exactly like the runtime)."""

from __future__ import annotations

# Bulk sink: a batch closes at whichever comes first.
BULK_MAX_DOCS = 1000
BULK_MAX_BYTES = 5 * 1024 * 1024
BULK_CONCURRENCY = 2  # requests in flight; the bounded queue holds as many batches
BULK_MAX_RETRIES = 5
BULK_BACKOFF_SECONDS = 0.5  # doubled per attempt, with jitter
KEPT_FAILURES = 100  # item failures kept with their reasons (all are counted)

# Sync engine.
SOURCE_BATCH = 1000  # documents read between checkpoints and version comparisons
SCAN_PAGE = 5000  # hits per scroll page when the index's ids and hashes are read
MAX_DELETE_FRACTION = 0.5  # stale deletions beyond this need --allow-mass-delete

# Elasticsearch client.
REQUEST_TIMEOUT_SECONDS = 60.0

# Jobs.
CHECK_INTERVAL_SECONDS = 1.0  # between cancelation checks / heartbeats during a sync
