"""Broken variants of the S3 connector: the mistakes file connectors make. Registered
through ``S3_VARIANTS`` in broken_variants.py; each must fail ``scenarios/s3`` with a
message naming the problem."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import unquote_plus

from connectors import extraction as extraction_client
from connectors.sources.s3 import client as s3_client
from connectors.sources.s3 import rules as s3_rules
from connectors.sources.s3 import source as s3_module


def _body_truncated_at_64_kb() -> None:
    """The extracted text cut at 64 KB, as a fixed-size read of the answer would."""
    original = extraction_client.ExtractionClient.extract

    async def extract(self: Any, *args: Any, **kwargs: Any) -> dict[str, str]:
        answer = await original(self, *args, **kwargs)
        if isinstance(answer.get("body"), str):
            answer["body"] = answer["body"][:65536]
        return answer

    extraction_client.ExtractionClient.extract = extract  # type: ignore[method-assign]


def _etag_ignored() -> None:
    """No version: every re-sync downloads, extracts and rewrites every object."""
    s3_module.S3DataSource.supports_versions = False
    s3_module._version = lambda obj: None  # type: ignore[assignment,return-value]


def _keys_decoded_twice() -> None:
    """Listed keys URL-decoded twice: 'percent%41.txt' becomes 'percentA.txt'."""
    s3_client.unquote_plus = lambda text: unquote_plus(unquote_plus(text))  # type: ignore[assignment]


def _extraction_failure_drops_the_document() -> None:
    """An object the service cannot read is left out instead of indexed with the reason."""
    original = s3_module.S3DataSource._documents

    async def documents(self: Any, *args: Any) -> Any:
        async for doc, obj in original(self, *args):
            if "extraction_error" not in (doc.fields or {}):
                yield doc, obj

    s3_module.S3DataSource._documents = documents  # type: ignore[method-assign]


def _rule_extensions_case_sensitive() -> None:
    """A rule's extensions compared as written: ["PDF"] misses report.pdf."""
    s3_rules._dotted = lambda ext: ext if ext.startswith(".") else "." + ext


def _listing_stops_after_the_first_page() -> None:
    """The continuation token never sent: a listing ends with its first page."""
    original = s3_client.S3Client.list_objects

    async def list_objects(self: Any, bucket: str, prefix: str = "", page_size: int = 1000) -> Any:
        count = 0
        async for obj in original(self, bucket, prefix, page_size):
            count += 1
            if count > page_size:
                return
            yield obj

    s3_client.S3Client.list_objects = list_objects  # type: ignore[method-assign]


def _cursor_strictly_after() -> None:
    """Objects read strictly after the cursor's second: objects written later within that
    second (S3 lists whole seconds) are never read."""
    original = s3_module.S3DataSource.get_docs_incrementally

    def strictly_after(self: Any, cursor: Any) -> Any:
        since = (cursor or {}).get("objects") or {}
        if since.get("value"):
            moment = dt.datetime.fromisoformat(since["value"].replace("Z", "+00:00"))
            later = (moment + dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            cursor = {**cursor, "objects": {"value": later, "ids": []}}
        return original(self, cursor)

    s3_module.S3DataSource.get_docs_incrementally = strictly_after  # type: ignore[method-assign]


S3_VARIANTS = {
    "s3-cursor-strictly-after": _cursor_strictly_after,
    "s3-listing-stops-after-the-first-page": _listing_stops_after_the_first_page,
    "s3-rule-extensions-case-sensitive": _rule_extensions_case_sensitive,
    "s3-body-truncated-at-64kb": _body_truncated_at_64_kb,
    "s3-etag-ignored": _etag_ignored,
    "s3-keys-decoded-twice": _keys_decoded_twice,
    "s3-extraction-failure-drops-the-document": _extraction_failure_drops_the_document,
}
