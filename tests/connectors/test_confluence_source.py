"""The Confluence source against the harness's mock Confluence (a real HTTP server): every
page, comment and attachment; who may read each, checked against the corpus's own model;
waits as long as a 429 asks; a token that expired is named, never shown; incremental by
last-modified."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from connectors.access_control_sync import AccessControlUnsupported, access_control_sync
from connectors.source import SourceError
from connectors.sources.confluence.source import ConfluenceDataSource, storage_text
from fixtures.confluence_access import readers

pytestmark = pytest.mark.services
TOKEN = "s3cr3t-confluence-token"


@pytest.fixture
def site(mockapi_endpoint, request):
    name = "c" + str(abs(hash(request.node.name)) % 10**8)
    mockapi_endpoint.admin("POST", "/sites", {"api": "confluence", "name": name, "seed": 11,
                                              "size": 30, "username": "bot@example.com",
                                              "token": TOKEN})  # fmt: skip
    yield name
    mockapi_endpoint.admin("DELETE", f"/sites/{name}")


def source(endpoint: Any, site: str, **extra: Any) -> ConfluenceDataSource:
    config = {"base_url": f"{endpoint.url}/{site}", "username": "bot@example.com",
              "api_token": TOKEN, "page_size": 7} | extra  # fmt: skip
    return ConfluenceDataSource(config)


async def collect(iterator: Any) -> list[Any]:
    return [item async for item in iterator]


def who_sees(acl: list[str], model: dict[str, Any]) -> set[str]:
    """Users whose identity (themselves, their groups, everyone) meets the document's ACL."""
    seen = set()
    for user in model["users"]:
        groups = {f"group:{g['id']}" for g in model["groups"] if user["account_id"] in g["members"]}
        identity = {f"user:{user['account_id']}", "everyone", *groups}
        if identity & set(acl):
            seen.add(user["account_id"])
    return seen


def test_every_page_comment_and_attachment_with_who_may_read_it(mockapi_endpoint, site):
    model = mockapi_endpoint.admin("GET", f"/sites/{site}/model")
    docs = asyncio.run(collect(source(mockapi_endpoint, site, use_dls=True).get_docs()))
    by_id = {d.id: d for d in docs}
    pages = {p["id"]: p for p in model["pages"]}
    comments = sum(len(p["comments"]) for p in model["pages"])
    attachments = sum(len(p["attachments"]) for p in model["pages"])
    assert len(by_id) == len(docs) == 30 + comments + attachments
    for page_id, page in pages.items():
        doc = by_id[f"page-{page_id}"]
        assert (
            doc.fields["body"] == storage_text(page["body"])
            and doc.fields["title"] == page["title"]
        )
        truth = readers(model, page)
        assert who_sees(doc.fields["_allow_access_control"], model) == truth, page_id
        for comment in page["comments"]:
            twin = by_id[f"comment-{comment['id']}"].fields
            assert twin["_allow_access_control"] == doc.fields["_allow_access_control"]
    restricted = [p for p in pages.values() if p["restricted_users"] or p["restricted_groups"]]
    assert restricted and any(readers(model, p) != readers(model, pages[p["id"]] | {
        "restricted_users": [], "restricted_groups": []}) for p in restricted)  # fmt: skip


def test_each_identity_matches_exactly_the_documents_its_user_may_read(mockapi_endpoint, site):
    model = mockapi_endpoint.admin("GET", f"/sites/{site}/model")
    connector = source(mockapi_endpoint, site, use_dls=True, include_attachments=False)
    identities = asyncio.run(collect(connector.get_access_control()))
    assert sorted(i.id for i in identities) == sorted(u["account_id"] for u in model["users"])
    params = {i.id: set(i.fields["query"]["template"]["params"]["access_control"])
              for i in identities}  # fmt: skip
    assert all(i.fields["identity"]["email"] for i in identities)
    docs = asyncio.run(collect(connector.get_docs()))
    pages = {p["id"]: p for p in model["pages"]}
    for doc in docs:
        acl = set(doc.fields["_allow_access_control"])
        matched = {user for user, values in params.items() if values & acl}
        assert matched == readers(model, pages[doc.fields["page_id"]]), doc.id


def test_an_access_control_sync_with_dls_off_is_refused_and_says_how_to_fix_it():
    connector = ConfluenceDataSource({"base_url": "http://127.0.0.1:9", "username": "u",
                                      "api_token": "t"})  # fmt: skip
    with pytest.raises(AccessControlUnsupported, match="use_dls"):
        asyncio.run(access_control_sync(connector, None, "content"))  # type: ignore[arg-type]


def test_a_429_storm_is_waited_out_as_long_as_asked(mockapi_endpoint, site):
    mockapi_endpoint.admin("PUT", f"/sites/{site}/knobs",
                           {"rate_limit": 10, "rate_window_s": 1, "retry_after_s": 1})  # fmt: skip
    connector = source(mockapi_endpoint, site, include_attachments=False)
    calm = asyncio.run(collect(connector.get_docs()))  # 30 pages, a request for each's comments
    stats = mockapi_endpoint.admin("GET", f"/sites/{site}/stats")
    comments = sum(
        len(p["comments"]) for p in mockapi_endpoint.admin("GET", f"/sites/{site}/model")["pages"]
    )
    assert len(calm) == 30 + comments and stats["throttled"] >= 2
    assert stats["shortest_margin_after_429_s"] >= 0, "came back before Retry-After"


def test_an_expired_token_is_named_and_never_shown(mockapi_endpoint, site):
    mockapi_endpoint.admin("PUT", f"/sites/{site}/knobs", {"token_ttl_s": 0.001})
    with pytest.raises(SourceError) as err:
        asyncio.run(source(mockapi_endpoint, site).ping())
    assert "401" in str(err.value) and "expired" in str(err.value)
    assert TOKEN not in str(err.value)


def test_incremental_sends_exactly_the_changed_page_then_nothing(mockapi_endpoint, site):
    connector = source(mockapi_endpoint, site, include_comments=False, include_attachments=False)
    first = asyncio.run(collect(connector.get_docs_incrementally(None)))
    cursor = connector.next_cursor()
    assert len(first) == 30 and cursor["modified"]
    mockapi_endpoint.admin("POST", f"/sites/{site}/change", {"op": "update_page", "id": "100005"})
    later = source(mockapi_endpoint, site, include_comments=False, include_attachments=False)
    changed = asyncio.run(collect(later.get_docs_incrementally(cursor)))
    assert [op.doc_id for op in changed] == ["page-100005"]
    again = source(mockapi_endpoint, site, include_comments=False, include_attachments=False)
    assert asyncio.run(collect(again.get_docs_incrementally(later.next_cursor()))) == []
