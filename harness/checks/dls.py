"""Searching as a user, the way a search application does with Elastic's document-level
security: read the user's identity from ``.search-acl-filter-<index>``, render its query
template with its own parameters, and filter the search with it.

The distribution the harness runs has no mustache module, so the template is rendered here;
only what identity templates use is supported (``{{#toJson}}name{{/toJson}}`` and
``{{name}}``), and anything else fails, named, rather than being guessed at.
"""

from __future__ import annotations

import json
import re
from typing import Any

from harness.checks.index_reader import IndexReader
from harness.services.es_http import ElasticsearchEndpoint

ACL_INDEX_PREFIX = ".search-acl-filter-"
_TAG = re.compile(r"\{\{#toJson\}\}\s*([\w.]+)\s*\{\{/toJson\}\}|\{\{\s*([^{}]*?)\s*\}\}")


class TemplateError(ValueError):
    """An identity's query template the harness cannot render: a connector bug to report."""


def render(template: str, params: dict[str, Any]) -> Any:
    """The template's query, as Elasticsearch would render it, parsed."""

    def value(name: str, tag: str) -> Any:
        if not re.fullmatch(r"[\w.]+", name):
            raise TemplateError(f"unsupported mustache tag {tag!r} in an identity template")
        current: Any = params
        for part in name.split("."):
            if not isinstance(current, dict) or part not in current:
                raise TemplateError(f"the template names {name!r}, which its params lack")
            current = current[part]
        return current

    def substitute(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return json.dumps(value(match.group(1), match.group(0)))
        return json.dumps(str(value(match.group(2), match.group(0))))[1:-1]

    text = _TAG.sub(substitute, template)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateError(f"the rendered template is not JSON ({exc}): {text[:300]}") from None


def identities(es: ElasticsearchEndpoint, index: str) -> dict[str, dict[str, Any]]:
    """Every identity document of ``index``'s connector, by id."""
    reader = IndexReader(es, ACL_INDEX_PREFIX + index)
    reader.refresh()
    ids = list(reader.ids())
    return reader.get_many(ids) if ids else {}


def user_filter(identity: dict[str, Any]) -> Any:
    template = (identity.get("query") or {}).get("template") or {}
    if not isinstance(template.get("source"), str):
        raise TemplateError(f"the identity has no query template: {json.dumps(identity)[:300]}")
    return render(template["source"], template.get("params") or {})


def visible_ids(es: ElasticsearchEndpoint, index: str, identity: dict[str, Any]) -> set[str]:
    """What a search of ``index`` as this identity can return."""
    return set(IndexReader(es, index).ids({"bool": {"filter": [user_filter(identity)]}}))
