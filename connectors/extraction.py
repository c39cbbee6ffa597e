"""The text-extraction service as sources call it (docs/extraction.md): bytes in (PUT
/tika), text out. One session per sync, shared by every file of it. A file the service
cannot read (415, 422) is that document's ``extraction_error``; the service failing or
unreachable fails the sync, named."""

from __future__ import annotations

from typing import Any

import aiohttp

from connectors.source import SourceError


class ExtractionClient:
    def __init__(self, service_url: str) -> None:
        self.service = service_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:  # made inside the sync's event loop, on first use
            timeout = aiohttp.ClientTimeout(total=None, sock_read=300)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session

    async def extract(self, data: Any, what: str, size: int | None = None) -> dict[str, str]:
        """``data``: bytes or a stream (sent as it arrives; ``size`` then gives its length).
        ``what`` names the file in errors."""
        headers = {"Accept": "text/plain"}
        if size is not None:
            headers["Content-Length"] = str(size)
        try:
            async with self._open().put(
                f"{self.service}/tika", data=data, headers=headers
            ) as answer:
                text = await answer.text(encoding="utf-8", errors="replace")
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise SourceError(
                f"the extraction service at {self.service} failed on {what}: "
                f"{exc or type(exc).__name__}"
            ) from None
        if answer.status == 200:
            return {"body": text}
        if answer.status in (415, 422):  # unsupported or unreadable: the file's problem
            return {"extraction_error": text.strip() or f"HTTP {answer.status}"}
        raise SourceError(
            f"the extraction service at {self.service} answered {answer.status} for {what}: "
            f"{text.strip()[:300]}"
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
