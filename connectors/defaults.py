"""Every default of the runtime, in one place: the sync engine, the bulk sink, the job
runner and the CLI read them from here (and so does the harness's benchmark ceiling,
which must batch exactly like the runtime). Constants only: what a deployment changes
through its environment is read by ``connectors.settings``, once, and passed down."""

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
# Every request but _bulk is retried (429/5xx, dropped connections, timeouts) until this.
ES_RETRY_DEADLINE_SECONDS = 300.0
ES_RETRY_BACKOFF_SECONDS = 0.5  # doubled per attempt up to the cap, with jitter
ES_RETRY_BACKOFF_CAP_SECONDS = 10.0
# A source's transient failures (S3's 503 SlowDown, a 500) are retried with backoff until
# its requests have failed for this long, one clock per sync.
SOURCE_RETRY_SECONDS = 300.0  # CONNECTORS_SOURCE_RETRY_SECONDS
# While requests keep failing, a line this often says what is waited for, and how long.
PROGRESS_SECONDS = 5.0
# One answer may be this large, before or after decompression, and inflate at most this
# many times once past a megabyte (a larger one is refused as a bomb, never buffered).
ES_MAX_ANSWER_BYTES = 256 * 1024 * 1024
ES_MAX_DECOMPRESSION_RATIO = 200
# Partial updates of a state document (heartbeat, progress, a job's end) may meet each other;
# Elasticsearch re-applies the loser this many times instead of answering 409.
STATE_RETRY_ON_CONFLICT = 10

# Jobs.
CHECK_INTERVAL_SECONDS = 1.0  # between cancelation checks during a sync
# A running job renews its connector's lease and its own last_seen this often; a job not
# heard of for LEASE_SECONDS is lost: its lease may be taken, and a service marks it error.
HEARTBEAT_SECONDS = 10.0  # CONNECTORS_HEARTBEAT_SECONDS
LEASE_SECONDS = 60.0  # CONNECTORS_LEASE_SECONDS
# Ids an incremental cursor remembers at its exact value (rows, objects, pages already sent
# there); past this, those may be sent again.
MAX_BOUNDARY_IDS = 1000
