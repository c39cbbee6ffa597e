"""Document-level security, in Elastic's convention, so a search application built for
Elastic's connectors reads our indices unchanged.

* Content documents carry ``_allow_access_control``: the values (``user:<id>``,
  ``group:<id>``, ``everyone``...) of whoever may read them; a document without the field is
  readable by all.
* An access-control sync writes one identity document per user into
  ``.search-acl-filter-<index>``: who the user is, and a search template whose
  ``access_control`` parameter holds the values that user's searches may match.

What a source implements lives here; the access-control job is access_control_sync.py.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from connectors.documents import ACCESS_FIELD, SourceDocument
from connectors.source import BaseDataSource

ACL_INDEX_PREFIX = ".search-acl-filter-"
ACCESS_TERMS_FIELD = f"{ACCESS_FIELD}.enum"
# A mustache template, rendered by Elasticsearch (or a search application) with the
# identity's own parameters.
FILTER_TEMPLATE = (
    '{"bool": {"should": ['
    '{"bool": {"must_not": {"exists": {"field": "' + ACCESS_FIELD + '"}}}}, '
    '{"terms": {"' + ACCESS_TERMS_FIELD + '": {{#toJson}}access_control{{/toJson}}}}'
    "]}}"
)


# What a document nobody may read carries: an empty list would be no field at all to
# Elasticsearch, which the filter reads as public.
NO_ONE = "none:no-one"


def allow_list(values: Iterable[str]) -> list[str]:
    """A document's ``_allow_access_control``: never empty (see NO_ONE)."""
    return sorted(set(values)) or [NO_ONE]


def acl_index(index: str) -> str:
    return ACL_INDEX_PREFIX + index


def identity_document(
    user_id: str, identity: Mapping[str, Any], access_control: Iterable[str]
) -> SourceDocument:
    """One user's identity document: ``_id`` is the user's id in the source."""
    values = sorted(set(access_control))
    return SourceDocument(
        user_id,
        {
            "identity": dict(identity),
            "query": {
                "template": {"source": FILTER_TEMPLATE, "params": {"access_control": values}}
            },
        },
    )


class AccessControlSource(BaseDataSource):
    """A source that knows who may read what: it fills ``_allow_access_control`` on its
    documents when ``dls_enabled()``, and lists every user's identity."""

    @abstractmethod
    def dls_enabled(self) -> bool: ...

    @abstractmethod
    def get_access_control(self) -> AsyncIterator[SourceDocument]:
        """Every user's identity document (``identity_document``), streamed."""
