"""The Elasticsearch client the runtime uses, speaking to 8.x and 9.x servers alike.

The 9.x Python client announces ``compatible-with=9``, which 8.x servers refuse; 9.x
servers accept ``compatible-with=8`` through REST compatibility, so we always send that.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from elasticsearch import AsyncElasticsearch
from elasticsearch.serializer import OrjsonSerializer

from connectors import defaults

COMPAT_JSON = "application/vnd.elasticsearch+json; compatible-with=8"
COMPAT_NDJSON = "application/vnd.elasticsearch+x-ndjson; compatible-with=8"


@dataclass(frozen=True)
class EsSettings:
    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    request_timeout: float = defaults.REQUEST_TIMEOUT_SECONDS

    @classmethod
    def from_env(cls, url: str | None = None) -> EsSettings:
        env = os.environ
        resolved = url or env.get("CONNECTORS_ES_URL")
        if not resolved:
            raise ValueError("no Elasticsearch URL: pass --es-url or set CONNECTORS_ES_URL")
        return cls(
            url=resolved,
            username=env.get("CONNECTORS_ES_USERNAME"),
            password=env.get("CONNECTORS_ES_PASSWORD"),
            api_key=env.get("CONNECTORS_ES_API_KEY"),
        )


def es_client(settings: EsSettings) -> AsyncElasticsearch:
    auth: dict[str, object] = {}
    if settings.api_key:
        auth["api_key"] = settings.api_key
    elif settings.username:
        auth["basic_auth"] = (settings.username, settings.password or "")
    client = AsyncElasticsearch(
        settings.url,
        headers={"accept": COMPAT_JSON, "content-type": COMPAT_JSON},
        request_timeout=settings.request_timeout,
        max_retries=0,  # the bulk sink retries with backoff itself
        serializer=OrjsonSerializer(),
        **auth,  # type: ignore[arg-type]
    )
    return client
