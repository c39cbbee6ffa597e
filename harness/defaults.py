"""Every default of the harness, in one place. The runtime's own (batch sizes, retries)
live in ``connectors.defaults``; the harness reads those, never copies them."""

from __future__ import annotations

# The newest 9.x integ-test-zip that Maven Central served (and that ran here) on 2026-11-28.
ES_VERSION = "9.5.4"
# The newest 8.x, which runs on Java 17: what bootstrap falls back to without Java >= 21.
ES_FALLBACK_VERSION = "8.19.21"
ES_HEAP = "768m"
ES_STARTUP_TIMEOUT = 180.0
PG_STARTUP_TIMEOUT = 60.0
# Hostile by default: the source runs in one zone, the connector in another, neither UTC
# and not whole hours apart, so a value converted through the wrong zone changes.
SOURCE_TIMEZONE = "America/St_Johns"  # -03:30, -02:30 in summer (it has DST)
CONNECTOR_TIMEZONE = "Asia/Kathmandu"  # +05:45, no DST (HARNESS_CONNECTOR_TZ overrides)
# Throwaway data: durability buys nothing and costs a lot of time.
PG_SERVER_SETTINGS = {
    # Fast but crash-safe for a killed *process* (the fault scenarios kill and restart it):
    # no fsync and no full pages (only an OS crash needs those), but a commit is written
    # to the OS before it is acknowledged, so a SIGKILL loses no acknowledged write.
    "fsync": "off",
    "synchronous_commit": "local",
    "full_page_writes": "off",
    "max_connections": "200",
    "timezone": SOURCE_TIMEZONE,  # the session default connectors get unless they set theirs
}
MYSQL_STARTUP_TIMEOUT = 90.0
# S3: moto's server, locally (PyPI) and in Docker (its image, the same version).
S3_REGION = "us-east-1"
S3_IMAGE = "motoserver/moto:5.2.5"
S3_STARTUP_TIMEOUT = 60.0
# Text extraction (docs/extraction.md): files over the cap are refused with 413, so one
# huge object cannot take the service's memory; Tika's own image in Docker.
EXTRACTION_MAX_BYTES = 20 * 1024 * 1024
EXTRACTION_IMAGE = "apache/tika:3.2.3.0"
EXTRACTION_STARTUP_TIMEOUT = 60.0
MOCKAPI_STARTUP_TIMEOUT = 30.0
# MariaDB/MySQL, the same trade: the redo log is written (not flushed) at each commit, so
# a killed server keeps every acknowledged commit; no doublewrite, no binlog flushes. The
# server's zone is SOURCE_TIMEZONE (through TZ: named zones need no time-zone tables).
MYSQL_SERVER_SETTINGS = {
    "innodb-flush-log-at-trx-commit": "2",
    "innodb-doublewrite": "0",
    "sync-binlog": "0",
    "innodb-buffer-pool-size": "256M",
    "character-set-server": "utf8mb4",
    "collation-server": "utf8mb4_unicode_ci",
    "local-infile": "1",
    "skip-name-resolve": "1",
    "max-connections": "200",
}
SERVICE_USER = "nobody"  # who services run as when the harness runs as root
STOP_GRACE_SECONDS = 30.0

# Scenario corpora. Deliberately not multiples of common batch sizes: a lost partial last
# batch must show.
CORPUS_SIZES = {"tiny": 257, "small": 10_007, "medium": 100_003, "large": 1_000_003}
CORPUS_SEED = 20261128

# Subject ``elastic`` (Elastic's connectors framework): how long one of their jobs may run
# (HARNESS_ELASTIC_JOB_TIMEOUT); a job still running then is reported as such, its service
# stopped.
ELASTIC_JOB_TIMEOUT = 600.0
