"""The S3 calls the S3 source makes, over aiohttp with our SigV4 signing: list a bucket
(ListObjectsV2, page by page), get an object as a stream, list the buckets (ping).
Path-style URLs, so any S3-compatible store works (AWS, MinIO, moto)."""

from __future__ import annotations

import asyncio
import itertools
import random
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus, urlsplit

import aiohttp
from yarl import URL

from connectors import defaults
from connectors.outage import Outage
from connectors.source import SourceError
from connectors.sources.s3.signing import canonical_query, encode_path, sign

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
# What AWS documents as worth retrying: 500 InternalError, 503 SlowDown and
# ServiceUnavailable, and 400 RequestTimeout (a slow upload or listing); with backoff.
TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
TRANSIENT_CODES = (b"<Code>RequestTimeout</Code>", b"<Code>SlowDown</Code>")
RETRY_FIRST_SECONDS = 0.2
RETRY_CAP_SECONDS = 5.0


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    etag: str
    size: int
    last_modified: str  # ISO 8601, UTC, as S3 lists it


class S3Client:
    def __init__(
        self,
        endpoint: str,
        region: str,
        access_key: str,
        secret_key: str,
        timeout: float,
        retry_seconds: float = defaults.SOURCE_RETRY_SECONDS,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.host = urlsplit(self.endpoint).netloc
        self.region = region
        self._keys = (access_key, secret_key)
        # One deadline for the client's whole run (a sync), as for Elasticsearch.
        self.retry_seconds = retry_seconds
        self.outage = Outage(f"S3 at {self.endpoint}")
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=60)
        )

    async def close(self) -> None:
        await self._session.close()

    async def request(
        self, method: str, bucket: str = "", key: str = "", params: dict[str, str] | None = None
    ) -> aiohttp.ClientResponse:
        """A signed request; the caller reads and releases the response. A failure names
        the endpoint and the object, never a key."""
        params = params or {}
        path = encode_path(bucket, key) if bucket else "/"
        where = f"{self.endpoint}{path if bucket else ''}"
        for attempt in itertools.count():
            try:
                response = await self._send(method, path, params)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                # Not retried: an endpoint that cannot be reached is a wrong address more
                # often than a blip, and says so at once (the unreachable-source scenario).
                raise SourceError(
                    f"S3 at {where} cannot be reached: {exc or type(exc).__name__}"
                ) from None
            else:
                if response.status < 400 or response.status == 404:
                    self.outage.ended()
                    return response
                body = (await response.read())[:2000]
                response.release()
                failure = f"S3 answered {response.status} for {method} {where}: {_s3_error(body)}"
                if not _transient(response.status, body):
                    raise SourceError(failure)
            failing = self.outage.failed(failure, self.retry_seconds)
            pause = min(RETRY_CAP_SECONDS, RETRY_FIRST_SECONDS * 2**attempt)
            pause *= 0.5 + random.random()
            if failing + pause > self.retry_seconds:
                raise SourceError(
                    f"{failure} (failing for {failing:.0f}s, {attempt + 1} attempts; retried "
                    f"until a {self.retry_seconds:.0f}s deadline)"
                )
            await asyncio.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(self, method: str, path: str, params: dict[str, str]) -> aiohttp.ClientResponse:
        headers = sign(method, self.host, path, params, region=self.region,
                       access_key=self._keys[0], secret_key=self._keys[1])  # fmt: skip
        # Sent exactly as signed: aiohttp's own quoting keeps "/" in values.
        query = "?" + canonical_query(params) if params else ""
        url = URL(self.endpoint + path + query, encoded=True)
        return await self._session.request(method, url, headers=headers)

    async def list_buckets(self) -> list[str]:
        response = await self.request("GET")
        root = ET.fromstring(await response.read())
        return [node.text or "" for node in root.iter(f"{NS}Name")]

    async def list_objects(
        self, bucket: str, prefix: str = "", page_size: int = 1000
    ) -> AsyncIterator[S3Object]:
        """Every object under ``prefix``, in key order, a page at a time. Keys come
        URL-encoded (XML cannot carry every byte a key may hold) and are decoded once."""
        token: str | None = None
        while True:
            params = {"list-type": "2", "encoding-type": "url", "max-keys": str(page_size)}
            if prefix:
                params["prefix"] = prefix
            if token:
                params["continuation-token"] = token
            response = await self.request("GET", bucket, params=params)
            if response.status == 404:
                response.release()
                raise SourceError(f"bucket {bucket!r} not found at {self.endpoint}")
            root = ET.fromstring(await response.read())
            for item in root.iter(f"{NS}Contents"):
                yield S3Object(
                    bucket,
                    unquote_plus(_text(item, "Key")),
                    _text(item, "ETag").strip('"'),
                    int(_text(item, "Size") or 0),
                    _iso(_text(item, "LastModified")),
                )
            if _text(root, "IsTruncated") != "true":
                return
            token = _text(root, "NextContinuationToken")


def _transient(status: int, body: bytes) -> bool:
    return status in TRANSIENT_STATUS or any(code in body for code in TRANSIENT_CODES)


def _text(node: Any, name: str) -> str:
    found = node.find(f"{NS}{name}")
    return (found.text or "") if found is not None else ""


def _iso(value: str) -> str:
    """'2026-11-30T10:01:28.000Z' -> '2026-11-30T10:01:28Z': S3 lists whole seconds."""
    return value.replace(".000Z", "Z")


def _s3_error(body: bytes) -> str:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return body[:200].decode(errors="replace")
    code, message = root.findtext("Code") or "", root.findtext("Message") or ""
    return f"{code}: {message}".strip(": ")
