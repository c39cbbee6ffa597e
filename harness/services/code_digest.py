"""A digest of the harness's own code, for the reuse keys of the servers that run it (the
mock API, the fault proxy, the extraction service, the S3 store's clock hook). A server
started by one build of the harness and reused by another answered with the old code:
a mock without a field the new fixture sends, a store without its clock, and a red run
that was no bug. With the digest in the key, `--reuse-services` replaces such a server."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[1]


@cache
def harness_code() -> str:
    """Of every module of the harness package, names and contents (a few ms, once)."""
    digest = hashlib.sha256()
    for path in sorted(HARNESS.rglob("*.py")):
        digest.update(str(path.relative_to(HARNESS)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]
