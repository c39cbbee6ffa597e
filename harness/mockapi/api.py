"""How an API is declared on the mock server: a ``MockApi`` subclass gives its routes, its
seeded corpus and the changes a scenario may ask for; the server adds sites, credentials,
knobs and the admin endpoints. Register it under ``harness.mock_apis`` (entry point).

    class JiraApi(MockApi):
        name = "jira"
        def routes(self): return [("GET", "/rest/api/3/search", self.search)]
        ...
"""

from __future__ import annotations

import base64
import binascii
import hmac
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from importlib.metadata import entry_points
from typing import Any, ClassVar

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class MockApi(ABC):
    """One site's API and its data. ``seed`` and ``size`` make the corpus; the same pair
    always gives the same corpus, so a fixture can rebuild the truth without asking."""

    name: ClassVar[str]

    def __init__(self, seed: int, size: int, base_path: str) -> None:
        self.seed, self.size = seed, size
        self.base_path = base_path  # "/<site>": links the API returns start with it
        self.after_page: Callable[[], None] = lambda: None  # set by the server (churn)

    @abstractmethod
    def routes(self) -> list[tuple[str, str, Handler]]:
        """(method, path under the site, handler); paths use aiohttp's {placeholders}."""

    @abstractmethod
    def change(self, operation: dict[str, Any]) -> dict[str, Any]:
        """Apply a scenario's change (``POST /_admin/sites/<site>/change``); return what
        it did, for the scenario's truth."""

    def churn(self) -> None:  # noqa: B027 - an API without churn ignores the knob
        """A change landing between two page requests (knob ``churn_between_pages``)."""

    def model(self) -> dict[str, Any]:
        """The whole corpus as JSON, for a scenario's truth and for debugging."""
        return {}


def basic_auth_ok(request: web.Request, username: str, token: str) -> bool:
    """HTTP basic auth as Atlassian takes it: the account's email and an API token."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return hmac.compare_digest(user, username) and hmac.compare_digest(secret, token)


def registered_apis() -> dict[str, type[MockApi]]:
    return {ep.name: ep.load() for ep in entry_points(group="harness.mock_apis")}
