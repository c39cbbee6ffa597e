"""How a `_bulk` body reaches Elasticsearch.

The sink only needs "send these bytes, give me the items": ``ClientBulkTransport`` does that
through the runtime's client (``connectors.es.rest``: pooled keep-alive connections, nothing
else on the hot path), not retried there (the sink retries item by item); ``HttpBulkTransport``
is the same on a client of its own.

Whoever makes a transport passes it in (``SyncOptions.bulk_transport``) and closes it;
without one, the sync goes through its client.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from connectors.es.client import EsSettings, es_client
from connectors.es.http11 import HttpError, HttpTlsError
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
        except HttpTlsError as exc:
            raise BulkTlsError(f"TLS failed with {self.client.where}: {exc}; {TLS_HINT}") from None
        except (TimeoutError, HttpError) as exc:
            raise BulkUnavailable(f"{type(exc).__name__}: {exc}") from None
        if status >= 400:
            raise BulkRejected(status, payload.decode(errors="replace"))
        items: list[dict[str, Any]] = orjson.loads(payload)["items"]
        return items

    async def close(self) -> None:
        """The client belongs to the caller."""


class HttpBulkTransport(ClientBulkTransport):
    """The same path on a client of its own, for a sync that has no other use for one;
    whoever makes it closes it."""

    def __init__(self, settings: EsSettings) -> None:
        super().__init__(es_client(settings))

    async def close(self) -> None:
        await self.client.close()
