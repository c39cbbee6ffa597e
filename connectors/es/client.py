"""Where the runtime's Elasticsearch is and how to reach it (``EsSettings``, which
``connectors.settings`` reads from the environment), and the client made from them
(``connectors.es.rest``): 8.x and 9.x servers alike, every request but ``_bulk`` retried
until a deadline, errors that name the operation and the server.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field

from connectors import defaults
from connectors.es.rest import COMPAT_JSON, COMPAT_NDJSON, EsClient
from connectors.es.retrying import RetryPolicy

__all__ = ["COMPAT_JSON", "COMPAT_NDJSON", "EsSettings", "es_client"]


@dataclass(frozen=True)
class EsSettings:
    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    request_timeout: float = defaults.REQUEST_TIMEOUT_SECONDS
    retry_deadline: float = defaults.ES_RETRY_DEADLINE_SECONDS
    retry_backoff: float = defaults.ES_RETRY_BACKOFF_SECONDS  # the first pause, then doubled
    retry_backoff_cap: float = defaults.ES_RETRY_BACKOFF_CAP_SECONDS  # up to this
    # TLS: a private CA's bundle, whether to verify at all, and a client certificate.
    ca_certs: str | None = None
    verify_certs: bool = True
    client_cert: str | None = None
    client_key: str | None = None

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


def es_client(settings: EsSettings) -> EsClient:
    return EsClient(
        settings.url,
        username=settings.username,
        password=settings.password,
        api_key=settings.api_key,
        ssl_context=settings.ssl_context(),
        request_timeout=settings.request_timeout,
        policy=RetryPolicy(
            deadline=settings.retry_deadline,
            backoff=settings.retry_backoff,
            backoff_cap=settings.retry_backoff_cap,
        ),
    )
