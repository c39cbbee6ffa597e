"""Turning a source document into what is sent: its id, its serialised body, and the
content hash that lets an unchanged document be skipped on the next sync."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import orjson

HASH_FIELD = "_content_hash"


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
    return hash64(b"v:" + version.encode())


@dataclass(frozen=True)
class PreparedDoc:
    doc_id: str
    id_hash: int
    content_hash: int
    body: bytes  # JSON source, hash field included


def prepare(doc: dict[str, Any]) -> PreparedDoc:
    """Takes ownership of ``doc`` (its ``_id`` is removed)."""
    raw_id = doc.pop("_id", None)
    if raw_id is None or raw_id == "":
        raise DocumentError(f"document has no _id (fields: {sorted(doc)[:10]})")
    doc_id = str(raw_id)
    version = doc.pop("_version", None)
    fields = doc
    try:
        body = orjson.dumps(fields, default=_default, option=orjson.OPT_NON_STR_KEYS)
    except TypeError as exc:
        raise DocumentError(f"document {doc_id!r} cannot be serialised: {exc}") from None
    # A source's version token stands for the content; otherwise the content itself does.
    content = hash64(body) if version is None else version_hash(str(version))
    tail = f'"{HASH_FIELD}":"{content:016x}"}}'.encode()
    body = body[:-1] + (b"," if len(body) > 2 else b"") + tail
    return PreparedDoc(doc_id, hash64(doc_id.encode()), content, body)
