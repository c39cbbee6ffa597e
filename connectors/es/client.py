"""The Elasticsearch client the runtime uses, speaking to 8.x and 9.x servers alike.

The 9.x Python client announces ``compatible-with=9``, which 8.x servers refuse; 9.x
servers accept ``compatible-with=8`` through REST compatibility, so we always send that.
Every request but ``_bulk`` goes through ``RetryingTransport`` (retries until a deadline,
errors that name the operation and the server).
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field

from elasticsearch import AsyncElasticsearch
from elasticsearch.serializer import OrjsonSerializer

from connectors import defaults
from connectors.es.retrying import RetryingTransport

COMPAT_JSON = "application/vnd.elasticsearch+json; compatible-with=8"
COMPAT_NDJSON = "application/vnd.elasticsearch+x-ndjson; compatible-with=8"

FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True)
class EsSettings:
    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    request_timeout: float = defaults.REQUEST_TIMEOUT_SECONDS
    retry_deadline: float = defaults.ES_RETRY_DEADLINE_SECONDS
    # TLS: a private CA's bundle, whether to verify at all, and a client certificate.
    ca_certs: str | None = None
    verify_certs: bool = True
    client_cert: str | None = None
    client_key: str | None = None

    @classmethod
    def from_env(cls, url: str | None = None) -> EsSettings:
        env = os.environ
        resolved = url or env.get("CONNECTORS_ES_URL")
        if not resolved:
            raise ValueError("no Elasticsearch URL: pass --es-url or set CONNECTORS_ES_URL")
        deadline = env.get("CONNECTORS_ES_RETRY_SECONDS")
        timeout = env.get("CONNECTORS_ES_REQUEST_TIMEOUT")
        return cls(
            url=resolved,
            username=env.get("CONNECTORS_ES_USERNAME"),
            password=env.get("CONNECTORS_ES_PASSWORD"),
            api_key=env.get("CONNECTORS_ES_API_KEY"),
            retry_deadline=float(deadline) if deadline else defaults.ES_RETRY_DEADLINE_SECONDS,
            request_timeout=float(timeout) if timeout else defaults.REQUEST_TIMEOUT_SECONDS,
            ca_certs=env.get("CONNECTORS_ES_CA_CERTS"),
            verify_certs=env.get("CONNECTORS_ES_VERIFY_CERTS", "true").lower() not in FALSE,
            client_cert=env.get("CONNECTORS_ES_CLIENT_CERT"),
            client_key=env.get("CONNECTORS_ES_CLIENT_KEY"),
        )

    def ssl_context(self) -> ssl.SSLContext | None:
        """For https URLs: the one TLS setup both the client and the bulk transport use."""
        if not self.url.lower().startswith("https:"):
            return None
        context = ssl.create_default_context(cafile=self.ca_certs)
        if not self.verify_certs:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.client_cert:
            context.load_cert_chain(self.client_cert, self.client_key)
        return context


def es_client(settings: EsSettings) -> AsyncElasticsearch:
    auth: dict[str, object] = {}
    if settings.api_key:
        auth["api_key"] = settings.api_key
    elif settings.username:
        auth["basic_auth"] = (settings.username, settings.password or "")
    context = settings.ssl_context()
    if context is not None:
        auth["ssl_context"] = context
    transport = type(
        "RetryingTransport", (RetryingTransport,), {"deadline": settings.retry_deadline}
    )
    client = AsyncElasticsearch(
        settings.url,
        headers={"accept": COMPAT_JSON, "content-type": COMPAT_JSON},
        request_timeout=settings.request_timeout,
        max_retries=0,  # RetryingTransport retries; the bulk sink retries _bulk itself
        transport_class=transport,
        serializer=OrjsonSerializer(),
        **auth,  # type: ignore[arg-type]
    )
    return client
