"""Every Elasticsearch request of the runtime survives a busy, restarting or stalled cluster:
429/502/503/504 answers, dropped connections and timeouts are retried with backoff until a
deadline, and a request that still fails says which operation, against which server.

``_bulk`` is left alone: the bulk sink retries it itself, item by item.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any
from urllib.parse import urlsplit

from elastic_transport import AsyncTransport, ConnectionError, ConnectionTimeout, TlsError

from connectors import defaults
from connectors.es.tls import TLS_HINT

RETRY_STATUS = frozenset({429, 502, 503, 504})


class EsUnavailable(ConnectionError):
    """Elasticsearch did not answer a request successfully before the retry deadline."""

    def __str__(self) -> str:
        return str(self.message)


class RetryingTransport(AsyncTransport):
    # Set per client by es_client (a transport class is all the client lets us pass).
    deadline: float = defaults.ES_RETRY_DEADLINE_SECONDS
    backoff: float = defaults.ES_RETRY_BACKOFF_SECONDS
    backoff_cap: float = defaults.ES_RETRY_BACKOFF_CAP_SECONDS

    async def perform_request(  # type: ignore[override]
        self, method: str, target: str, **kwargs: Any
    ) -> Any:
        if target.split("?", 1)[0].endswith("/_bulk"):
            return await super().perform_request(method, target, **kwargs)
        kwargs["max_retries"] = 0
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await super().perform_request(method, target, **kwargs)
            except TlsError as exc:  # a certificate does not become valid by waiting
                raise EsUnavailable(
                    f"Elasticsearch {method} {target.split('?', 1)[0]} at {self._where()}: "
                    f"TLS failed (not retried): {_reason(exc)}; {TLS_HINT}"
                ) from None
            except (ConnectionError, ConnectionTimeout) as exc:
                failure = _reason(exc)
            else:
                if response.meta.status not in RETRY_STATUS:
                    return response
                failure = f"HTTP {response.meta.status} {_body_reason(response.body)}"
            elapsed = time.monotonic() - started
            pause = min(self.backoff_cap, self.backoff * 2 ** (attempt - 1))
            pause *= 0.5 + random.random()
            if elapsed + pause > self.deadline:
                raise EsUnavailable(
                    f"Elasticsearch {method} {target.split('?', 1)[0]} at {self._where()} "
                    f"failed {attempt} times in {elapsed:.0f}s (retried until a "
                    f"{self.deadline:.0f}s deadline): {failure}"
                ) from None
            await asyncio.sleep(pause)

    def _where(self) -> str:
        node = self.node_pool.all()[0]
        parts = urlsplit(node.base_url)
        return f"{parts.scheme}://{parts.hostname}:{parts.port}"  # never the credentials


def _reason(exc: BaseException) -> str:
    """The innermost cause: "Connection error" alone says nothing."""
    messages = [str(exc)]
    for inner in getattr(exc, "errors", ()) or ():
        messages.append(str(inner))
    cause = exc.__cause__ or exc.__context__
    while cause is not None and len(messages) < 6:
        messages.append(f"{type(cause).__name__}: {cause}")
        cause = cause.__cause__ or cause.__context__
    seen: list[str] = []
    for message in messages:
        if message and message not in seen:
            seen.append(message)
    if len(seen) > 1 and seen[0] in ("Connection error", "Connection timed out"):
        seen.pop(0)  # the generic wrapper's words, when its causes say more
    return f"{type(exc).__name__}: " + " <- ".join(seen)


def _body_reason(body: Any) -> str:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return f"{error.get('type', '')}: {error.get('reason', '')}".strip(": ")
        if error:
            return str(error)
    return ""
