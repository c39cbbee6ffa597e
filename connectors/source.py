"""The data-source API: a small surface every connector implements.

A source declares its configuration, answers ``ping`` and ``validate_config``, streams
documents from ``get_docs`` and, if it can, changes since a cursor from
``get_docs_incrementally``. Documents are ``SourceDocument``s.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from connectors import defaults
from connectors.config import Config, ConfigSchema
from connectors.documents import SourceDocument


class SourceError(RuntimeError):
    """The source failed; the message says what and where (never a secret)."""


@dataclass(frozen=True)
class Operation:
    """One incremental change: index (create or replace) a document, or delete an id."""

    op: Literal["index", "delete"]
    doc_id: str
    doc: SourceDocument | None = None


class BaseDataSource(ABC):
    name: ClassVar[str]
    supports_incremental: ClassVar[bool] = False
    # A source with versions gives each document a ``version`` and can list (id, version)
    # pairs cheaply, so a re-sync fetches only what changed.
    supports_versions: ClassVar[bool] = False

    # How long a source's transient failures are retried; the job runner sets it.
    retry_seconds: float = defaults.SOURCE_RETRY_SECONDS

    def __init__(self, configuration: Mapping[str, Any]) -> None:
        self.config: Config = self.config_schema().parse(configuration)

    @classmethod
    @abstractmethod
    def config_schema(cls) -> ConfigSchema: ...

    @abstractmethod
    async def ping(self) -> None:
        """Raise SourceError if the source cannot be reached."""

    async def validate_config(self) -> None:  # noqa: B027 - optional hook
        """Check the configuration against the live source (tables exist, keys declared...)."""

    @abstractmethod
    def get_docs(self) -> AsyncIterator[SourceDocument]:
        """Every document of the source, streamed."""

    def get_versions(self) -> AsyncIterator[tuple[str, str]]:
        """(id, version) of every document, without the documents."""
        raise NotImplementedError(f"{self.name} does not list versions")

    def get_docs_by_ids(self, ids: list[str]) -> AsyncIterator[SourceDocument]:
        """The current documents for ``ids``; ids that no longer exist are left out."""
        raise NotImplementedError(f"{self.name} does not fetch documents by id")

    def get_docs_incrementally(self, cursor: Any) -> AsyncIterator[Operation]:
        """Changes since ``cursor`` (None: from the beginning). After the iterator is
        exhausted, ``next_cursor()`` returns the cursor to persist."""
        raise NotImplementedError(f"{self.name} does not support incremental sync")

    def next_cursor(self) -> Any:
        return None

    async def confirm_gone(self, doc_ids: list[str]) -> None:  # noqa: B027 - optional hook
        """Raise SourceError if some of these ids, unseen by a complete full sync, may still
        exist (say, in a table hidden by a revoked privilege): then nothing is deleted."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
