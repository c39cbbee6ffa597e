"""S3 source: the objects of one or more buckets (under an optional prefix), each with its
text from an extraction service speaking Tika server's API (docs/s3.md).

* ``_id`` is ``<bucket>/<key>``; the version is the ETag with the last-modified time
  (both listed), so an unchanged re-sync lists the buckets and neither downloads nor
  writes anything, and an object written again (its metadata or the same bytes) is.
* Fields: bucket, key, size, last_modified (UTC), content_type, url (``s3://bucket/key``,
  the same whichever endpoint or proxy the sync went through), and ``body``, the
  extracted text. An object over ``max_object_bytes`` is indexed without a body, with
  ``body_skipped`` saying why; one the service cannot read (corrupt, encrypted), with
  ``extraction_error``. Neither fails the sync; an unreachable service does.
* Downloads stream straight into the extraction request, ``concurrency`` at a time:
  memory is bounded by the buffers in flight, never by an object's size.
* Advanced rules (rules.py) select objects by bucket, prefix, extension and size.
* Incremental: objects modified at or after the cursor (S3 lists whole seconds), minus
  those sent at exactly that second with the same ETag.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from typing import Any

from connectors import defaults
from connectors.config import (
    MAX_CONNECT_TIMEOUT,
    MAX_EXTRACTED_BYTES,
    ConfigField,
    ConfigSchema,
)
from connectors.documents import MAX_ID_BYTES, SourceDocument
from connectors.extraction import ExtractionClient
from connectors.source import BaseDataSource, Operation, SourceError
from connectors.sources.s3.client import S3Client, S3Object
from connectors.sources.s3.rules import listing_prefixes, parse_rules, selects


class S3DataSource(BaseDataSource):
    name = "s3"
    supports_incremental = True
    supports_versions = True

    def __init__(self, configuration: dict[str, Any]) -> None:
        super().__init__(configuration)
        self.rules = parse_rules(
            self.config["rules"], self.config["buckets"], self.config["prefix"] or ""
        )
        self._cursor: dict[str, Any] = {}

    @classmethod
    def config_schema(cls) -> ConfigSchema:
        return ConfigSchema(
            (
                ConfigField("buckets", "list", label="Buckets", min_items=1),
                ConfigField("prefix", label="Key prefix", required=False, default=""),
                ConfigField(
                    "rules",
                    "list",
                    label="Advanced rules",
                    required=False,
                    default=[],
                    description="[{bucket, prefix, extensions, min_size, max_size}]: "
                    "objects meeting every condition of one rule; all when empty",
                ),
                ConfigField("region", label="Region", default="us-east-1"),
                ConfigField(
                    "endpoint_url",
                    label="Endpoint URL",
                    required=False,
                    format="url",
                    description="an S3-compatible store; AWS when empty",
                ),
                ConfigField("access_key_id", label="Access key id"),
                ConfigField("secret_access_key", label="Secret access key", sensitive=True),
                ConfigField(
                    "extraction_url",
                    label="Extraction service URL",
                    required=False,
                    format="url",
                    description="Tika server's API; no bodies when empty",
                ),
                ConfigField(
                    "max_object_bytes",
                    "int",
                    label="Largest object extracted",
                    default=10 * 1024 * 1024,
                    min_value=0,
                    max_value=MAX_EXTRACTED_BYTES,
                ),
                ConfigField(
                    "concurrency",
                    "int",
                    label="Objects in flight",
                    default=4,
                    min_value=1,
                    max_value=64,
                ),
                ConfigField(
                    "page_size",
                    "int",
                    label="Keys per listing page",
                    default=1000,
                    min_value=1,
                    max_value=1000,
                ),
                ConfigField(
                    "connect_timeout",
                    "float",
                    label="Connect timeout (s)",
                    default=10.0,
                    min_value=0.1,
                    max_value=MAX_CONNECT_TIMEOUT,
                ),
            )
        )

    # -- connection -------------------------------------------------------------------

    def _client(self) -> S3Client:
        c = self.config
        endpoint = c["endpoint_url"] or f"https://s3.{c['region']}.amazonaws.com"
        return S3Client(endpoint, c["region"], c["access_key_id"], c["secret_access_key"],
                        c["connect_timeout"], self.retry_seconds)  # fmt: skip

    async def ping(self) -> None:
        client = self._client()
        try:
            await client.list_buckets()
        finally:
            await client.close()

    async def validate_config(self) -> None:
        client = self._client()
        try:
            existing = set(await client.list_buckets())
        finally:
            await client.close()
        missing = sorted(set(self.config["buckets"]) - existing)
        if missing:
            raise SourceError(f"buckets not found at {client.endpoint}: {missing}")

    # -- listing ----------------------------------------------------------------------

    async def _objects(self, client: S3Client) -> AsyncIterator[S3Object]:
        for bucket in self.config["buckets"]:
            for prefix in listing_prefixes(self.rules, bucket, self.config["prefix"]):
                async for obj in client.list_objects(bucket, prefix, self.config["page_size"]):
                    if selects(self.rules, bucket, obj.key, obj.size):
                        yield obj

    async def get_versions(self) -> AsyncIterator[tuple[str, str]]:
        client = self._client()
        try:
            async for obj in self._objects(client):
                yield document_id(obj.bucket, obj.key), _version(obj)
        finally:
            await client.close()

    # -- documents --------------------------------------------------------------------

    async def _documents(
        self, client: S3Client, objects: AsyncIterator[S3Object]
    ) -> AsyncIterator[tuple[SourceDocument, S3Object]]:
        """Documents in listing order, ``concurrency`` objects fetched at a time."""
        limit = self.config["concurrency"]
        pending: asyncio.Queue[asyncio.Task[SourceDocument] | None] = asyncio.Queue(limit)
        service = self.config["extraction_url"]
        extraction = ExtractionClient(service) if service else None
        seen: dict[int, S3Object] = {}

        async def produce() -> None:
            async for obj in objects:
                task = asyncio.create_task(self._document(client, extraction, obj))
                seen[id(task)] = obj
                await pending.put(task)
            await pending.put(None)

        producer = asyncio.create_task(produce())
        try:
            while (task := await pending.get()) is not None:
                yield await task, seen.pop(id(task))
            await producer
        finally:
            producer.cancel()
            while not pending.empty():
                left = pending.get_nowait()
                if left is not None:
                    left.cancel()
            if extraction is not None:
                await extraction.close()

    async def _document(
        self, client: S3Client, extraction: ExtractionClient | None, obj: S3Object
    ) -> SourceDocument:
        fields: dict[str, Any] = {
            "bucket": obj.bucket,
            "key": obj.key,
            "size": obj.size,
            "last_modified": obj.last_modified,
            "url": f"s3://{obj.bucket}/{obj.key}",  # where it is, whatever the route to it
        }
        cap = self.config["max_object_bytes"]
        if obj.size > cap:
            fields["body_skipped"] = f"{obj.size} bytes, over max_object_bytes ({cap})"
        response = await client.request("HEAD" if obj.size > cap or not extraction else "GET",
                                        obj.bucket, obj.key)  # fmt: skip
        try:
            fields["content_type"] = response.headers.get("Content-Type")
            if response.status == 404:
                fields["body_skipped"] = "deleted while the sync read the bucket"
            elif obj.size == 0 and extraction:
                fields["body"] = ""
            elif obj.size <= cap and extraction:  # streamed from S3 into the service
                where = f"s3://{obj.bucket}/{obj.key}"
                fields |= await extraction.extract(response.content, where, obj.size)
        finally:
            response.release()
        return SourceDocument(document_id(obj.bucket, obj.key), fields, _version(obj))

    async def get_docs(self) -> AsyncIterator[SourceDocument]:
        client = self._client()
        try:
            async for doc, _obj in self._documents(client, self._objects(client)):
                yield doc
        finally:
            await client.close()

    async def get_docs_by_ids(self, ids: list[str]) -> AsyncIterator[SourceDocument]:
        wanted = set(ids)

        async def listed(client: S3Client) -> AsyncIterator[S3Object]:
            async for obj in self._objects(client):
                if document_id(obj.bucket, obj.key) in wanted:
                    yield obj

        client = self._client()
        try:
            async for doc, _obj in self._documents(client, listed(client)):
                yield doc
        finally:
            await client.close()

    async def get_docs_incrementally(self, cursor: Any) -> AsyncIterator[Operation]:
        """Listing order is key order, not time order: the cursor is the latest
        modification seen, with the objects (id and ETag) sent at exactly that second."""
        since = (cursor or {}).get("objects") or {"value": "", "ids": []}
        sent = set(since["ids"])
        latest = dict(since)

        async def changed(client: S3Client) -> AsyncIterator[S3Object]:
            async for obj in self._objects(client):
                mark = f"{document_id(obj.bucket, obj.key)}@{obj.etag}"
                if obj.last_modified < since["value"] or mark in sent:
                    continue
                if obj.last_modified > latest["value"]:
                    latest.update(value=obj.last_modified, ids=[])
                if obj.last_modified == latest["value"]:
                    latest["ids"] = [*latest["ids"], mark][-defaults.MAX_BOUNDARY_IDS :]
                yield obj

        client = self._client()
        try:
            async for doc, _obj in self._documents(client, changed(client)):
                yield Operation("index", doc.id, doc)
        finally:
            await client.close()
        if latest["value"]:
            self._cursor = {"objects": latest}

    def next_cursor(self) -> Any:
        return dict(self._cursor)


def document_id(bucket: str, key: str) -> str:
    """``bucket/key``. One over Elasticsearch's 512-byte ``_id`` (keys may have 1,024) is
    cut at a character boundary and ends in ``#`` and the SHA-256 of the whole: stable,
    unique, and still readable; the document's ``key`` field keeps the key whole."""
    whole = f"{bucket}/{key}".encode()
    if len(whole) <= MAX_ID_BYTES:
        return f"{bucket}/{key}"
    head = whole[: MAX_ID_BYTES - 65].decode(errors="ignore")
    return f"{head}#{hashlib.sha256(whole).hexdigest()}"


def _version(obj: S3Object) -> str:
    return f"{obj.etag}@{obj.last_modified}"
