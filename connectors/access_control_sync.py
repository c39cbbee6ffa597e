"""The access-control job: a full sync of a source's identities (skip unchanged, delete
users that left, the mass-delete guard) into ``.search-acl-filter-<index>``, an index of its
own: identities never reach the content index."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from connectors.access_control import AccessControlSource, acl_index
from connectors.documents import HASH_FIELD, SourceDocument
from connectors.es.rest import EsClient
from connectors.source import BaseDataSource
from connectors.sync import SyncOptions, SyncResult, full_sync


class _Identities(BaseDataSource):
    """The source's identities, seen by the sync engine as documents."""

    name = "identities"

    def __init__(self, source: AccessControlSource) -> None:
        self.source = source

    @classmethod
    def config_schema(cls) -> Any:  # never parsed: see __init__
        raise NotImplementedError

    async def ping(self) -> None:
        await self.source.ping()

    def get_docs(self) -> AsyncIterator[SourceDocument]:
        return self.source.get_access_control()


async def ensure_acl_index(client: EsClient, index: str) -> None:
    """Identities are looked up by id, never searched: the template is stored, not indexed."""
    if await client.indices.exists(index=index):
        return
    mappings = {
        "dynamic": False,
        "properties": {
            "identity": {"type": "object", "dynamic": True},
            "query": {"type": "object", "enabled": False},
            HASH_FIELD: {"type": "keyword", "index": False, "doc_values": True},
        },
    }
    try:
        await client.indices.create(index=index, mappings=mappings)
    except Exception as exc:  # a concurrent creator wins the race
        if "resource_already_exists_exception" not in str(exc):
            raise


class AccessControlUnsupported(RuntimeError):
    """The connector cannot list identities, or its document-level security is off."""


async def access_control_sync(
    source: BaseDataSource,
    client: EsClient,
    index: str,
    options: SyncOptions | None = None,
) -> SyncResult:
    """Write the identities of ``source``'s users into ``acl_index(index)``."""
    if not isinstance(source, AccessControlSource):
        raise AccessControlUnsupported(
            f"the {source.name} connector has no document-level security: it cannot run an "
            "access-control sync"
        )
    if not source.dls_enabled():
        raise AccessControlUnsupported(
            f"document-level security is off for this {source.name} connector: turn it on in "
            "its configuration (use_dls) before an access-control sync"
        )
    target = acl_index(index)
    await ensure_acl_index(client, target)
    result = await full_sync(_Identities(source), client, target, options)
    result.job_type = "access_control"
    return result
