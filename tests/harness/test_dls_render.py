"""Rendering identity templates as Elasticsearch's mustache would: the runtime's own
template, the plain tags, and templates the harness refuses rather than guesses at."""

from __future__ import annotations

import pytest

from connectors.access_control import FILTER_TEMPLATE, identity_document
from harness.checks.dls import TemplateError, render, user_filter


def test_the_runtime_template_renders_to_a_filter_on_the_users_values():
    identity = identity_document("u1", {"email": "a@b"}, ["group:g", "user:u1", "everyone"])
    query = user_filter(identity.fields)
    should = query["bool"]["should"]
    assert {"terms": {"_allow_access_control.enum": ["everyone", "group:g", "user:u1"]}} in should
    assert {"bool": {"must_not": {"exists": {"field": "_allow_access_control"}}}} in should


def test_plain_tags_are_escaped_inside_json_strings():
    rendered = render('{"term": {"owner": "{{who.name}}"}}', {"who": {"name": 'a "b"'}})
    assert rendered == {"term": {"owner": 'a "b"'}}


@pytest.mark.parametrize(
    ("template", "params", "words"),
    [
        (FILTER_TEMPLATE, {}, "which its params lack"),
        ('{"a": {{#each access_control}}x{{/each}}}', {"access_control": []}, "unsupported"),
        ('{"a": {{#toJson}}v{{/toJson}}', {"v": 1}, "not JSON"),
    ],
)
def test_a_template_that_cannot_be_rendered_is_named(template, params, words):
    with pytest.raises(TemplateError, match=words):
        render(template, params)


def test_an_identity_without_a_template_is_refused():
    with pytest.raises(TemplateError, match="no query template"):
        user_filter({"identity": {"email": "a@b"}})
