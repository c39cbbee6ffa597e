"""Every Elasticsearch request of the runtime survives a busy, restarting or stalled cluster:
429/502/503/504 answers, dropped connections and timeouts are retried with backoff until a
deadline, and a request that still fails says which operation, against which server.

``_bulk`` is left alone: the bulk sink retries it itself, item by item.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from connectors import defaults
from connectors.es.http11 import HttpError, HttpTlsError
from connectors.es.tls import TLS_HINT

RETRY_STATUS = frozenset({429, 502, 503, 504})
Send = Callable[[], Awaitable[tuple[int, bytes]]]


class EsUnavailable(Exception):
    """Elasticsearch did not answer a request successfully before the retry deadline."""


@dataclass(frozen=True)
class RetryPolicy:
    deadline: float = defaults.ES_RETRY_DEADLINE_SECONDS
    backoff: float = defaults.ES_RETRY_BACKOFF_SECONDS
    backoff_cap: float = defaults.ES_RETRY_BACKOFF_CAP_SECONDS

    async def run(self, method: str, path: str, where: str, send: Send) -> tuple[int, bytes]:
        """``send()`` until it gets an answer that is not "busy", or the deadline passes:
        then the operation, the server (``where``: never credentials) and the last cause."""
        started = time.monotonic()
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
                    return status, payload
                failure = f"HTTP {status} {_body_reason(_parsed(payload))}"
            elapsed = time.monotonic() - started
            pause = min(self.backoff_cap, self.backoff * 2 ** (attempt - 1))
            pause *= 0.5 + random.random()
            if elapsed + pause > self.deadline:
                raise EsUnavailable(
                    f"Elasticsearch {method} {path} at {where} failed {attempt} times in "
                    f"{elapsed:.0f}s (retried until a {self.deadline:.0f}s deadline): {failure}"
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
