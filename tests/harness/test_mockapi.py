"""The mock SaaS server as a real local process: sites, basic auth, cursor pagination,
the knobs (latency, 429 with Retry-After, 5xx bursts, token expiry, churn between pages),
CQL, and the Confluence corpus's determinism."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from harness.services.base import ServiceError

services = pytest.mark.services


@services
def test_pages_come_once_each_in_id_order_through_next_links(site):
    pages = site.walk("/wiki/api/v2/pages?limit=7&body-format=storage")
    ids = [int(p["id"]) for p in pages]
    assert ids == sorted(set(ids)) and len(ids) == 40
    assert pages[0]["body"]["storage"]["value"].startswith("<p>")
    eng = site.walk("/wiki/api/v2/pages?space-id=10001&limit=5")
    assert {p["spaceId"] for p in eng} == {"10001"} and len(eng) == 14


@services
def test_basic_auth_is_required_and_a_token_expires(site):
    assert site.get("/wiki/api/v2/spaces", token="wrong")[0] == 401
    # The lifetime is judged at each request, from when the credentials were set: within
    # an hour they work; a lifetime shorter than the time since then has run out. (A 0.2 s
    # lifetime and a 0.3 s sleep failed under load: the first request came after 0.2 s.)
    site.knobs(token_ttl_s=3600)
    assert site.get("/wiki/api/v2/spaces")[0] == 200
    site.knobs(token_ttl_s=1e-6)
    status, _, body = site.get("/wiki/api/v2/spaces")
    assert status == 401 and "expired" in body["message"]
    site.mock.admin("PUT", f"/sites/{site.name}/token", {"token": "renewed"})
    site.knobs(token_ttl_s=3600)
    assert site.get("/wiki/api/v2/spaces", token="renewed")[0] == 200


@services
def test_a_rate_limit_answers_429_with_retry_after_and_measures_the_wait(site):
    site.knobs(rate_limit=2, rate_window_s=60, retry_after_s=1)
    assert [site.get("/wiki/api/v2/spaces")[0] for _ in range(2)] == [200, 200]
    status, headers, _ = site.get("/wiki/api/v2/spaces")
    assert status == 429 and headers["Retry-After"] == "1"
    site.get("/wiki/api/v2/spaces")  # straight back: too early
    stats = site.stats()
    assert stats["throttled"] == 2 and stats["shortest_margin_after_429_s"] < 0


@services
def test_error_bursts_and_latency(site):
    site.knobs(error_burst=2)
    assert [site.get("/wiki/api/v2/spaces")[0] for _ in range(3)] == [503, 503, 200]
    site.knobs(latency_ms=150)
    started = time.perf_counter()
    site.get("/wiki/api/v2/spaces")
    assert time.perf_counter() - started >= 0.15


@services
def test_churn_between_pages_loses_nothing_that_exists_before_and_after(site):
    before = {p["id"] for p in site.walk("/wiki/api/v2/pages?limit=50")}
    site.knobs(churn_between_pages=1)
    seen = {p["id"] for p in site.walk("/wiki/api/v2/pages?limit=5")}
    site.knobs(churn_between_pages=0)
    after = {p["id"] for p in site.walk("/wiki/api/v2/pages?limit=50")}
    assert site.stats()["churned"] >= 7  # one after each page with a next link (40 / 5 - 1)
    assert before != after and (before & after) <= seen


def search(cql: str) -> str:
    return "/wiki/rest/api/content/search?" + urllib.parse.urlencode({"cql": cql})


@services
def test_cql_selects_by_space_title_and_last_modified(site):
    found = site.walk(search("space in (ENG, PUB) and type = page"))
    assert {r["space"]["key"] for r in found} == {"ENG", "PUB"} and len(found) == 27
    changed = site.mock.admin("POST", f"/sites/{site.name}/change", {"op": "update_page",
                                                                     "id": "100003"})  # fmt: skip
    since = changed["modified_at"][:16].replace("T", " ")
    recent = site.walk(search(f'lastModified >= "{since}"'))
    assert [r["id"] for r in recent] == ["100003"] and recent[0]["version"]["number"] == 2
    status, _, body = site.get(search("nonsense ~~ 1"))
    assert status == 400 and "Could not parse cql" in body["message"]


@services
def test_permissions_restrictions_groups_and_users(site):
    grants = site.walk("/wiki/api/v2/spaces/10003/permissions")
    assert grants == [{"id": "10003-0", "principal": {"type": "role", "id": "anonymous"},
                       "operation": {"key": "read", "targetType": "space"}}]  # fmt: skip
    _, _, restriction = site.get("/wiki/rest/api/content/100004/restriction/byOperation/read")
    assert restriction["restrictions"]["user"]["size"] == 1
    groups = site.walk("/wiki/rest/api/group?limit=3")
    assert [g["name"] for g in groups] == ["engineering", "sales", "support", "leadership"]
    members = site.walk(f"/wiki/rest/api/group/{groups[0]['id']}/membersByGroupId")
    assert len(members) == 3 and all("accountId" in m for m in members)
    users = site.walk("/wiki/rest/api/search/user?cql=type=user&limit=5")
    assert len(users) == 8


@services
def test_the_corpus_is_the_same_for_the_same_seed(mock, site):
    again = "twin" + site.name
    mock.admin("POST", "/sites", {"api": "confluence", "name": again, "seed": 7, "size": 40,
                                  "username": "u", "token": "t"})  # fmt: skip
    try:
        first = mock.admin("GET", f"/sites/{site.name}/model")
        assert first == mock.admin("GET", f"/sites/{again}/model")
    finally:
        mock.admin("DELETE", f"/sites/{again}")
    with pytest.raises(ServiceError, match="unknown knobs"):
        site.knobs(latency=5)
