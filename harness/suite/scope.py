"""Write and deletion scope: what a sync may skip, delete, and must keep. Documents
Elasticsearch rejects fail the job by name; an emptied source is the mass-delete guard's
case (refused with nothing deleted, then emptied exactly on request); documents a sync
writes must survive that same sync's stale deletion."""

from __future__ import annotations

import json
import re
from typing import Any

from harness.capabilities import RejectedDocuments, requires
from harness.checks.assertions import assert_job_record
from harness.faults.scenario_faults import es_behind_proxy
from harness.scenario import ScenarioRun
from harness.services.es_http import es_request

GUARD_WORDS = ("refusing to delete", "mass-delete")


class ScopeSuite:
    @requires("rejected_documents")
    def test_documents_elasticsearch_rejects_fail_the_job_and_are_named(
        self, run: ScenarioRun
    ) -> None:
        """Rejected items: the job is ``error``, each rejected id is named and counted as
        failed (never as indexed), and every other document is written."""
        run.fixture.load("tiny")
        run.sync()
        properties, rejected = run.able(RejectedDocuments).load_rejects()
        es_request(run.es, "PUT", f"/{run.index}/_mapping", {"properties": properties})
        before = run.index_count()
        outcome = run.sync(expect_ok=False)
        assert not outcome.ok, f"a sync with {len(rejected)} rejected documents reported success"
        run.assert_index_matches(except_ids=rejected)
        written = run.index_count() - before
        if run.subject.records_jobs:
            job = assert_job_record(run.es, run.connector_id, status="error")
            problems = _rejection_problems(job, rejected, written)
            assert not problems, "; ".join(problems)

    def test_an_emptied_source_is_guarded_then_emptied_on_request(self, run: ScenarioRun) -> None:
        run.fixture.load("tiny")
        run.sync()
        indexed = run.index_count()
        change = run.fixture.mutate(delete=1.0)
        assert run.fixture.expected_count() == 0, "the fixture did not empty its source"
        outcome, deleted = run.failing_sync()
        assert not outcome.ok, "a sync deleted every document of the index without the override"
        assert deleted == 0, f"a refused mass deletion still deleted {deleted} documents"
        assert run.index_count() == indexed
        error = (outcome.error or "").lower()
        assert all(word in error for word in GUARD_WORDS), (
            f"the refusal must say what it refused and how to override it: {outcome.error}"
        )
        run.sync(allow_mass_delete=True)
        run.assert_index_matches()
        run.assert_job(indexed_document_count=0, deleted_document_count=len(change.deleted))

    def test_a_sync_that_deletes_and_inserts_keeps_every_new_document(
        self, run: ScenarioRun
    ) -> None:
        """The new documents are written during the sync whose stale deletion then runs:
        they were not in the index when it started, and must not be taken for stale."""
        run.fixture.load("tiny")
        run.sync()
        change = run.fixture.mutate(delete=0.2, insert=0.2)
        # Whether the stale-deletion pass sees the new documents depends on a refresh
        # landing in between; the worst case is forced: every search is preceded by one.
        with es_behind_proxy(run) as proxy:
            proxy.before(rf"^POST /{re.escape(run.index)}/_search$", lambda: _refresh(run))
            run.sync()
        run.assert_index_matches()
        run.assert_job(
            indexed_document_count=len(change.inserted),
            deleted_document_count=len(change.deleted),
        )


def _refresh(run: ScenarioRun) -> None:
    es_request(run.es, "POST", f"/{run.index}/_refresh")


def _rejection_problems(job: dict[str, Any], rejected: list[str], written: int) -> list[str]:
    metadata = job.get("metadata") or {}
    named = json.dumps(metadata.get("failures", [])) + (job.get("error") or "")
    problems = [f"the rejected document {doc_id} is not named" for doc_id in rejected
                if doc_id not in named]  # fmt: skip
    if metadata.get("failed_document_count") != len(rejected):
        problems.append(
            f"failed_document_count is {metadata.get('failed_document_count')}, "
            f"Elasticsearch rejected {len(rejected)}"
        )
    if job.get("indexed_document_count") != written:
        problems.append(
            f"indexed_document_count is {job.get('indexed_document_count')}: {written} "
            "documents were written (a rejected one is not indexed)"
        )
    return problems
