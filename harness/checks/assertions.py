"""Outcome assertions: the index compared with the source's truth, and the sync-job record
compared with what happened. Each failure says exactly what is wrong, with a readable diff
of the first mismatches."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from harness import state_index
from harness.checks.dls import ACL_INDEX_PREFIX
from harness.checks.index_reader import CHUNK, IndexReader
from harness.checks.job_record import FINISHED, connector_problems, job_problems
from harness.services.es_http import ElasticsearchEndpoint, es_request

SHOWN = 5


class OutcomeError(AssertionError):
    """The index or the job record does not match what the source says it must be."""


@dataclass
class Comparison:
    expected: int = 0
    actual: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    mismatched: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            not (self.missing or self.extra or self.mismatched or self.duplicates)
            and self.expected == self.actual
        )

    def report(self, index: str) -> str:
        lines = [
            f"index {index!r} does not match the source: expected {self.expected} "
            f"documents, found {self.actual}"
        ]
        if self.missing:
            lines.append(
                f"{len(self.missing)} missing (in the source, not in the index), e.g. "
                + ", ".join(map(show_id, self.missing[:SHOWN]))
            )
        if self.extra:
            lines.append(
                f"{len(self.extra)} extra (in the index, not in the source: stale or "
                "wrongly keyed), e.g. " + ", ".join(map(show_id, self.extra[:SHOWN]))
            )
        if self.duplicates:
            lines.append(
                f"{len(self.duplicates)} duplicates (the same source document under "
                "two ids), e.g. "
                + ", ".join(f"{show_id(a)} = {show_id(b)}" for a, b in self.duplicates[:SHOWN])
            )
        if self.mismatched:
            tally = Counter(d.split(":", 1)[0] for _, diffs in self.mismatched for d in diffs)
            lines.append(
                f"{len(self.mismatched)} documents differ field by field, in "
                + ", ".join(f"{name} ({count})" for name, count in tally.most_common(12))
                + "; first ones:"
            )
            for doc_id, diffs in self.mismatched[:SHOWN]:
                lines.append(f"  {show_id(doc_id)}:")
                lines.extend(f"    {d}" for d in diffs[:8])
        return "\n".join(lines)


def _short(value: Any, escaped: bool = False) -> str:
    text = json.dumps(value, ensure_ascii=escaped, default=str)
    return text if len(text) <= 120 else text[:100] + f"... ({len(text)} chars)"


def _looks_like(a: str, b: str) -> bool:
    """Whether two different renderings would look the same to a reader: equal once
    Unicode-normalised and stripped of invisible format characters (ZWJ, ZWSP...)."""

    def seen(text: str) -> str:
        folded = unicodedata.normalize("NFKC", text)
        return "".join(c for c in folded if unicodedata.category(c) != "Cf")

    return a != b and seen(a) == seen(b)


def _pair(expected: Any, actual: Any) -> tuple[str, str]:
    """Both values for a diff line; escaped (\\u0301) when they would look alike, so that
    'expected "café", got "café"' never happens."""
    shown = _short(expected), _short(actual)
    if _looks_like(*shown):
        return _short(expected, escaped=True), _short(actual, escaped=True)
    return shown


def show_id(doc_id: str) -> str:
    """An id as printed in reports: quoted and escaped when it holds characters a reader
    cannot see (combining marks, format characters, edge spaces)."""
    invisible = any(
        unicodedata.combining(c) or (unicodedata.category(c) in ("Cf", "Zs") and c != " ")
        for c in doc_id
    )
    if invisible or doc_id != doc_id.strip() or not doc_id.isprintable():
        return json.dumps(doc_id)
    return doc_id


def diff_fields(
    expected: dict[str, Any], actual: dict[str, Any], ignore: frozenset[str]
) -> list[str]:
    diffs = []
    for name in sorted(set(expected) | set(actual)):
        if name in ignore:
            continue
        if name not in actual:
            diffs.append(f"{name}: missing (expected {_short(expected[name])})")
        elif name not in expected:
            diffs.append(f"{name}: unexpected field (value {_short(actual[name])})")
        elif not _equal(expected[name], actual[name]):
            want, got = _pair(expected[name], actual[name])
            diffs.append(f"{name}: expected {want}, got {got}")
    return diffs


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 equals 1.0, but true is not 1 and "1" is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _chunks(
    items: Iterable[tuple[str, dict[str, Any]]], size: int
) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def compare_index(
    reader: IndexReader,
    expected_docs: Iterable[tuple[str, dict[str, Any]]],
    ignore_fields: Iterable[str] = (),
) -> Comparison:
    """Every expected document present and equal field by field; nothing else there."""
    ignore = frozenset(ignore_fields)
    expected_docs = _reiterable(expected_docs)
    reader.refresh()
    result = Comparison(actual=reader.count())
    expected_ids: set[str] = set()
    fingerprints: dict[str, str] = {}
    for chunk in _chunks(expected_docs, CHUNK):
        found = reader.get_many([doc_id for doc_id, _ in chunk])
        for doc_id, doc in chunk:
            if doc_id in expected_ids:
                raise OutcomeError(
                    f"the expected documents contain {doc_id!r} twice: "
                    "the fixture's id rule is not unique"
                )
            expected_ids.add(doc_id)
            result.expected += 1
            if doc_id not in found:
                result.missing.append(doc_id)
                continue
            diffs = diff_fields(doc, found[doc_id], ignore)
            if diffs:
                result.mismatched.append((doc_id, diffs))
    if result.actual != result.expected or result.missing:
        extra = [doc_id for doc_id in reader.ids() if doc_id not in expected_ids]
        result.extra = extra
        # An extra document whose content equals an expected one is a duplicate.
        for chunk_ids in (extra[i : i + CHUNK] for i in range(0, min(len(extra), 5000), CHUNK)):
            for doc_id, doc in reader.get_many(chunk_ids).items():
                fingerprints[doc_id] = _fingerprint(doc, ignore)
        if fingerprints:
            wanted = Counter(fingerprints.values())
            for chunk in _chunks(expected_docs, CHUNK):
                for doc_id, doc in chunk:
                    mark = _fingerprint(doc, ignore)
                    if mark in wanted:
                        twin = next(k for k, v in fingerprints.items() if v == mark)
                        result.duplicates.append((doc_id, twin))
                        wanted.pop(mark)
    return result


def _reiterable(docs: Any) -> Any:
    """Documents are walked twice when something is off: regenerate them if given a
    callable, keep them if re-iterable, else hold them."""
    if callable(docs):
        return _Regenerated(docs)
    return list(docs) if iter(docs) is docs else docs


class _Regenerated:
    def __init__(self, factory: Any) -> None:
        self.factory = factory

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        return iter(self.factory())


def _fingerprint(doc: dict[str, Any], ignore: frozenset[str]) -> str:
    return json.dumps(
        {k: v for k, v in doc.items() if k not in ignore}, sort_keys=True, default=str
    )


def assert_index_matches_source(
    endpoint: ElasticsearchEndpoint,
    index: str,
    expected_docs: Iterable[tuple[str, dict[str, Any]]]
    | Callable[[], Iterable[tuple[str, dict[str, Any]]]],
    ignore_fields: Iterable[str] = (),
    reader: IndexReader | None = None,
) -> Comparison:
    """``expected_docs``: (id, document) pairs, or a callable that regenerates them.
    ``reader``: how to read the index (a subject with another document shape maps it)."""
    comparison = compare_index(
        reader or IndexReader(endpoint, index), _reiterable(expected_docs), ignore_fields
    )
    if not comparison.ok:
        raise OutcomeError(comparison.report(index))
    return comparison


def latest_job(endpoint: ElasticsearchEndpoint, connector_id: str) -> dict[str, Any]:
    es_request(endpoint, "POST", f"/{state_index.JOBS}/_refresh")
    found = es_request(
        endpoint,
        "POST",
        f"/{state_index.JOBS}/_search",
        {
            "size": 1,
            "query": {"term": {"connector.id": connector_id}},
            "sort": [{"created_at": "desc"}],
        },
    )
    hits = found["hits"]["hits"]
    if not hits:
        raise OutcomeError(f"no sync job recorded for connector {connector_id!r}")
    return dict(hits[0]["_source"])


def assert_job_record(
    endpoint: ElasticsearchEndpoint,
    connector_id: str,
    *,
    status: str,
    job_type: str | None = None,
    **counts: int,
) -> dict[str, Any]:
    """The latest sync job of the connector has this status, type and exact counts
    (e.g. ``indexed_document_count=10``, ``deleted_document_count=0``)."""
    job = latest_job(endpoint, connector_id)
    what = f"sync job record of {connector_id!r}"
    check_job(job, what, status, job_type, **counts)
    if job.get("status") in FINISHED:  # and the rest of the record, and the connector's
        index = job["connector"]["index_name"]
        # An access-control job writes and counts the identities' index, not the content.
        target = ACL_INDEX_PREFIX + index if job.get("job_type") == "access_control" else index
        reader = IndexReader(endpoint, target)
        reader.refresh()
        connector = es_request(endpoint, "GET", state_index.connector_doc(connector_id))
        problems = job_problems(job, reader.count())
        problems += connector_problems(connector["_source"], job)
        if problems:
            raise OutcomeError(f"{what}: " + "; ".join(problems))
    return job


def check_job(
    job: dict[str, Any], what: str, status: str, job_type: str | None = None, **counts: int
) -> None:
    """A job record (or a reported result in its shape) has this status, type and counts;
    a count it does not have is a problem too, never a pass."""
    problems = []
    if job.get("status") != status:
        problems.append(
            f"status is {job.get('status')!r}, expected {status!r} (error: {job.get('error')})"
        )
    if job_type and job.get("job_type") != job_type:
        problems.append(f"job_type is {job.get('job_type')!r}, expected {job_type!r}")
    for name, value in counts.items():
        if job.get(name) != value:
            problems.append(f"{name} is {job.get(name)}, expected {value}")
    if problems:
        raise OutcomeError(f"{what}: " + "; ".join(problems))


def assert_nothing_written(
    before: tuple[int, int, int], after: tuple[int, int, int], index: str
) -> None:
    """Index/delete operation counts and the highest sequence number did not move."""
    labels = ("documents written", "documents deleted", "highest _seq_no")
    moved = [
        f"{label}: {b} -> {a}" for label, b, a in zip(labels, before, after, strict=True) if a != b
    ]
    if moved:
        raise OutcomeError(f"a sync of an unchanged source wrote to {index!r}: " + "; ".join(moved))
