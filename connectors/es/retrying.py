"""Every Elasticsearch request of the runtime survives a busy, restarting or stalled cluster:
429/502/503/504 answers, dropped connections and timeouts are retried with backoff until a
deadline, and a request that still fails says which operation, against which server.

``_bulk`` is left alone: the bulk sink retries it itself, item by item.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from connectors import defaults
from connectors.es.http11 import HttpError, HttpTlsError
from connectors.es.tls import TLS_HINT
from connectors.outage import Outage

RETRY_STATUS = frozenset({429, 502, 503, 504})
Send = Callable[[], Awaitable[tuple[int, bytes]]]


class EsUnavailable(Exception):
    """Elasticsearch did not answer a request successfully before the retry deadline."""


@dataclass
class RetryPolicy:
    """How a client's requests wait out a busy or unreachable cluster. The deadline runs
    from the start of an outage, not of each request: a sync whose every request fails
    gives up ``deadline`` seconds after the first failure, however many requests it has
    in flight or in turn (one deadline per request let a sync against a killed node run
    on for 560 s against a 300 s deadline). Any success ends the outage."""

    deadline: float = defaults.ES_RETRY_DEADLINE_SECONDS
    backoff: float = defaults.ES_RETRY_BACKOFF_SECONDS
    backoff_cap: float = defaults.ES_RETRY_BACKOFF_CAP_SECONDS
    outage: Outage = field(default_factory=lambda: Outage("Elasticsearch"))

    async def run(self, method: str, path: str, where: str, send: Send) -> tuple[int, bytes]:
        """``send()`` until it gets an answer that is not "busy", or the outage is older
        than the deadline: then the operation, the server (``where``: never credentials)
        and the last cause. Always tried at least once, so a cluster that is back is seen."""
        attempt = 0
        while True:
            attempt += 1
            try:
                status, payload = await send()
            except HttpTlsError as exc:
                raise EsUnavailable(  # a certificate does not become valid by waiting
                    f"Elasticsearch {method} {path} at {where}: TLS failed (not retried): "
                    f"{_reason(exc)}; {TLS_HINT}"
                ) from None
            except (TimeoutError, HttpError) as exc:
                failure = _reason(exc)
            else:
                if status not in RETRY_STATUS:
                    self.outage.ended()
                    return status, payload
                failure = f"HTTP {status} {_body_reason(_parsed(payload))}"
            elapsed = self.outage.failed(f"{method} {path} at {where}: {failure}", self.deadline)
            pause = min(self.backoff_cap, self.backoff * 2 ** (attempt - 1))
            pause *= 0.5 + random.random()
            if elapsed + pause > self.deadline:
                raise EsUnavailable(
                    f"Elasticsearch {method} {path} at {where} failed {attempt} times; "
                    f"it has failed for {elapsed:.0f}s (retried until a {self.deadline:.0f}s "
                    f"deadline): {failure}"
                ) from None
            await asyncio.sleep(pause)


def _parsed(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload[:200].decode(errors="replace")


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
    if len(seen) > 1 and seen[0] in ("", "Connection error", "Connection timed out"):
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
