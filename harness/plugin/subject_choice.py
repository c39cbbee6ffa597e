"""Which subject a ``--subject`` description names, whether it can run here, and how the
pytest header describes it: ``inprocess``, ``cli``, ``command:TEMPLATE``, ``elastic[:PATH]``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.services.es_http import ElasticsearchEndpoint
from harness.subjects import (
    CliSubject,
    CommandSubject,
    InProcessSubject,
    SubjectUnavailable,
    SyncSubject,
)

if TYPE_CHECKING:
    from harness.subjects.elastic.framework import ElasticFramework


def _elastic(description: str) -> ElasticFramework | None:
    """Their framework for ``elastic[:PATH]`` (raising SubjectUnavailable, saying why, when
    there is none); None for any other subject."""
    if description != "elastic" and not description.startswith("elastic:"):
        return None
    from harness.subjects.elastic.framework import ElasticFramework

    return ElasticFramework.locate(description.partition(":")[2] or None)


def describe_subject(description: str) -> str:
    """What the header says of the subject: for ``elastic``, their version and where."""
    try:
        framework = _elastic(description)
    except SubjectUnavailable as exc:
        return f"{description} (unavailable: {exc})"
    return framework.describe() if framework else description


def subject_unavailable(description: str) -> str | None:
    """Why the subject cannot run here (checked once, at collection), or None."""
    try:
        _elastic(description)
    except SubjectUnavailable as exc:
        return str(exc)
    return None


def make_subject(description: str, endpoint: ElasticsearchEndpoint) -> SyncSubject:
    if description == "inprocess":
        return InProcessSubject(endpoint)
    if description == "cli":
        return CliSubject(endpoint)
    if description.startswith("command:"):
        return CommandSubject(endpoint, description.removeprefix("command:"))
    framework = _elastic(description)
    if framework is not None:
        from harness.subjects.elastic.subject import ElasticSubject

        return ElasticSubject(endpoint, framework)
    raise ValueError(
        f"unknown subject {description!r}: use inprocess, cli, command:TEMPLATE or elastic[:PATH]"
    )
