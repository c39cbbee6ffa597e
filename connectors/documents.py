"""Turning a source document into what is sent: its id, its serialised body, and the
content hash that lets an unchanged document be skipped on the next sync."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import uuid
from typing import Any, NamedTuple

import orjson

HASH_FIELD = "_content_hash"
HASH_BYTES = HASH_FIELD.encode()
# Who may read a document (connectors/access_control.py): searched as keywords through the
# ``enum`` sub-field, as Elastic's search applications do.
ACCESS_FIELD = "_allow_access_control"
ACCESS_FIELD_MAPPING = {
    "type": "text",
    "fields": {"enum": {"type": "keyword", "ignore_above": 1024}},
}


class DocumentError(ValueError):
    """A document cannot be sent (no id, a value JSON cannot hold...)."""


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        import base64

        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, (dt.timedelta,)):
        return value.total_seconds()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def hash64(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def version_hash(version: str) -> int:
    if len(version) == 32:  # an md5 hex digest (as PostgreSQL's md5()): already a hash
        try:
            return int(version[:16], 16)
        except ValueError:
            pass
    return hash64(b"v:" + version.encode())


class SourceDocument(NamedTuple):
    """One document as a source yields it. ``fields`` are serialised by the runtime; a
    source that already has the JSON (PostgreSQL serialises rows server-side) passes it
    as ``body`` instead. ``version``, where the source has one, is any token that changes
    whenever the document does: it then stands for the content when skipping unchanged
    documents."""

    id: str
    fields: dict[str, Any] | None = None
    version: str | None = None
    body: bytes | None = None


class PreparedDoc(NamedTuple):  # a tuple: built once per document, on the hot path
    doc_id: str
    id_hash: int
    content_hash: int
    body: bytes  # JSON source, hash field included


MAX_ID_BYTES = 512  # Elasticsearch's limit on _id, in UTF-8 bytes


def prepare(doc: SourceDocument) -> PreparedDoc:
    """The id, the body to send (with the content hash in it) and the hashes to compare."""
    raw_id, fields, version, body = doc
    if raw_id is None or raw_id == "":
        raise DocumentError(f"document has no id (fields: {sorted(fields or {})[:10]})")
    doc_id = raw_id if isinstance(raw_id, str) else str(raw_id)
    if len(encoded := doc_id.encode()) > MAX_ID_BYTES:  # ES would fail the whole request
        raise DocumentError(
            f"document id {doc_id[:80]!r}... is {len(encoded)} bytes, over Elasticsearch's "
            f"{MAX_ID_BYTES}-byte limit for _id: shorten or hash such ids in the source"
        )
    if body is None:
        try:
            body = orjson.dumps(fields or {}, default=_default, option=orjson.OPT_NON_STR_KEYS)
        except TypeError as exc:
            raise DocumentError(f"document {doc_id!r} cannot be serialised: {exc}") from None
    elif body[:1] != b"{" or body[-1:] != b"}":
        raise DocumentError(f"document {doc_id!r}: its body is not a JSON object")
    # A source's version token stands for the content; otherwise the content itself does.
    content = hash64(body) if version is None else version_hash(version)
    head = body[:-1]  # the object without its closing brace
    separator = b"," if len(head) > 1 and head.strip() != b"{" else b""
    body = head + separator + b'"' + HASH_BYTES + b'":"' + b"%016x" % content + b'"}'
    return PreparedDoc(doc_id, hash64(encoded), content, body)
