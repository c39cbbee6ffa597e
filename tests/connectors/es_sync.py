"""Running engine calls against the session's Elasticsearch from synchronous tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from connectors.es.bulk_transport import BulkUnavailable, ClientBulkTransport
from connectors.es.client import EsSettings, es_client
from connectors.es.rest import EsClient


def sync(es_endpoint: Any, coro_factory: Callable[[EsClient], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        client = es_client(EsSettings(es_endpoint.url))
        try:
            return await coro_factory(client)
        finally:
            await client.close()

    return asyncio.run(go())


def ids_in(es_endpoint: Any, index: str) -> set[str]:
    async def read(client: EsClient) -> set[str]:
        found = await client.search(index=index, size=10000, source=False)
        return {hit["_id"] for hit in found["hits"]["hits"]}

    return sync(es_endpoint, read)


class RecordingTransport:
    """The client's bulk transport, recording each body, optionally failing the first
    ``unavailable`` sends as if the connection dropped."""

    def __init__(self, client: EsClient, unavailable: int = 0) -> None:
        self.inner = ClientBulkTransport(client)
        self.bodies: list[bytes] = []
        self.unavailable = unavailable

    async def send(self, body: bytes) -> list[dict[str, Any]]:
        if self.unavailable:
            self.unavailable -= 1
            raise BulkUnavailable("scripted drop")
        items = await self.inner.send(body)
        self.bodies.append(body)
        return items

    async def close(self) -> None:
        await self.inner.close()

    def actions(self) -> list[int]:
        return [body.count(b'{"index"') + body.count(b'{"delete"') for body in self.bodies]
