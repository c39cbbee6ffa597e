"""How a `_bulk` body reaches Elasticsearch.

The sink only needs "send these bytes, give me the items": ``HttpBulkTransport`` does that
with one aiohttp session and nothing else on the hot path (a third less CPU per request
than the full client, which matters when the sync shares cores with Elasticsearch);
``ClientBulkTransport`` goes through the runtime's client (``connectors.es.rest``).

Whoever makes a transport passes it in (``SyncOptions.bulk_transport``) and closes it;
without one, the sync goes through its client.
"""

from __future__ import annotations

import base64
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp
import orjson

from connectors.es.client import COMPAT_JSON, COMPAT_NDJSON, EsSettings
from connectors.es.rest import EsClient
from connectors.es.tls import TLS_HINT

BULK_PATH = "/_bulk?filter_path=items.*.status,items.*.error"  # a tenth of the full response


class BulkUnavailable(Exception):
    """The request did not get an answer (connection refused, reset, timeout)."""


class BulkTlsError(Exception):
    """The TLS handshake failed: retrying cannot help."""


class BulkRejected(Exception):
    """Elasticsearch answered the whole request with an HTTP error."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"HTTP {status} {text[:300]}")
        self.status = status


class BulkTransport(Protocol):
    async def send(self, body: bytes) -> list[dict[str, Any]]: ...

    async def close(self) -> None: ...


class ClientBulkTransport:
    def __init__(self, client: EsClient) -> None:
        self.client = client

    async def send(self, body: bytes) -> list[dict[str, Any]]:
        try:
            status, payload = await self.client.bulk(BULK_PATH, body)
        except aiohttp.ClientSSLError as exc:
            raise BulkTlsError(f"TLS failed with {self.client.where}: {exc}; {TLS_HINT}") from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise BulkUnavailable(f"{type(exc).__name__}: {exc}") from None
        if status >= 400:
            raise BulkRejected(status, payload.decode(errors="replace"))
        items: list[dict[str, Any]] = orjson.loads(payload)["items"]
        return items

    async def close(self) -> None:
        """The client belongs to the caller."""


class HttpBulkTransport:
    def __init__(self, settings: EsSettings) -> None:
        headers = {"content-type": COMPAT_NDJSON, "accept": COMPAT_JSON}
        if settings.api_key:
            headers["authorization"] = f"ApiKey {settings.api_key}"
        elif settings.username:
            pair = f"{settings.username}:{settings.password or ''}".encode()
            headers["authorization"] = "Basic " + base64.b64encode(pair).decode()
        self.url = settings.url.rstrip("/") + BULK_PATH
        context = settings.ssl_context()
        self.session = aiohttp.ClientSession(
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=settings.request_timeout),
            connector=aiohttp.TCPConnector(ssl=context) if context is not None else None,
        )

    async def send(self, body: bytes) -> list[dict[str, Any]]:
        try:
            async with self.session.post(self.url, data=body) as response:
                payload = await response.read()
                if response.status >= 400:
                    raise BulkRejected(response.status, payload.decode(errors="replace"))
        except aiohttp.ClientSSLError as exc:
            where = urlsplit(self.url)
            server = f"{where.scheme}://{where.hostname}:{where.port}"  # never credentials
            raise BulkTlsError(f"TLS failed with {server}: {exc}; {TLS_HINT}") from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise BulkUnavailable(f"{type(exc).__name__}: {exc}") from None
        items: list[dict[str, Any]] = orjson.loads(payload)["items"]
        return items

    async def close(self) -> None:
        await self.session.close()
