"""A mock API server for the tests, a fresh Confluence site per test, and a client that
follows links as a connector must (v2 links from the site's root, v1 links from base)."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from harness.services.mockapi import LocalMockApi, MockApiConfig

TOKEN = "api-token-for-tests"


@pytest.fixture(scope="module")
def mock(tmp_path_factory):
    service = LocalMockApi.start(MockApiConfig())
    yield service.endpoint
    service.stop()


@pytest.fixture
def site(mock, request):
    name = "t" + str(abs(hash(request.node.name)) % 10**8)
    mock.admin("POST", "/sites", {"api": "confluence", "name": name, "seed": 7, "size": 40,
                                  "username": "bot@example.com", "token": TOKEN})  # fmt: skip
    yield Site(mock, name)
    mock.admin("DELETE", f"/sites/{name}")


class Site:
    def __init__(self, mock: Any, name: str) -> None:
        self.mock, self.name = mock, name
        self.base = f"{mock.url}/{name}"

    def get(self, path: str, token: str = TOKEN) -> tuple[int, dict[str, str], Any]:
        url = path if path.startswith("http") else self.base + path
        auth = base64.b64encode(f"bot@example.com:{token}".encode()).decode()
        request = urllib.request.Request(url, headers={"Authorization": f"Basic {auth}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, dict(answer.headers), json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), json.loads(exc.read() or b"null")

    def walk(self, path: str) -> list[dict[str, Any]]:
        """Every result, following ``_links.next`` (relative to the site's base)."""
        results: list[dict[str, Any]] = []
        while path:
            status, _, body = self.get(path)
            assert status == 200, body
            results += body["results"]
            path = self.next_url(body)
        return results

    def next_url(self, body: dict[str, Any]) -> str:
        """v2 links start at the site's root (/wiki/api/v2/...), v1 links at its /wiki; the
        canonical ``_links.base`` names the site, not where this client reaches it."""
        link = body["_links"].get("next", "")
        if not link:
            return ""
        return self.base + link if link.startswith("/wiki/") else self.base + "/wiki" + link

    def knobs(self, **values: Any) -> None:
        self.mock.admin("PUT", f"/sites/{self.name}/knobs", values)

    def stats(self) -> dict[str, Any]:
        return dict(self.mock.admin("GET", f"/sites/{self.name}/stats"))
