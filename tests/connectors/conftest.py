import asyncio

import pytest

from connectors.es.client import EsSettings, es_client


@pytest.fixture
def index(es_endpoint, run_namespace, request):
    """A fresh index name for the test, dropped afterwards."""
    name = run_namespace.es_name(request.node.name)
    yield name

    async def drop():
        client = es_client(EsSettings(es_endpoint.url))
        await client.options(ignore_status=404).indices.delete(index=name)
        await client.close()

    asyncio.run(drop())
