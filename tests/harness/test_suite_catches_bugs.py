"""The standard suite can fail: each deliberately broken variant of the PostgreSQL or
MySQL connector makes it fail, with a message that names the problem; the unbroken
connectors pass the same scenarios."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.helpers import private_service_state

# One worker under xdist: the module starts a set of services of its own for its inner runs.
pytestmark = [pytest.mark.services, pytest.mark.xdist_group("test_suite_catches_bugs")]
ROOT = Path(__file__).resolve().parents[2]

MIXED_ANSWER = "test_items_a_bulk_answer_refuses_are_resent_and_only_they"
CASES = {
    "no-retry-on-state-requests": (
        "test_every_kind_of_state_request_survives_503",
        "ApiError(503",
    ),
    "no-heartbeat-reclaim": (
        "test_a_job_abandoned_by_a_dead_worker_is_given_up",
        "jobs left unfinished",
    ),
    "no-per-connector-lease": (
        "test_two_syncs_of_one_connector_at_once_write_everything_once",
        "one sync per connector must run at a time",
    ),
    "sink-item-429-counted-as-indexed": (MIXED_ANSWER, "missing (in the source, not in the index)"),
    "sink-whole-batch-resent-on-item-errors": (
        MIXED_ANSWER,
        "were sent again after Elasticsearch had accepted them",
    ),
    "sink-retry-list-off-by-one": (MIXED_ANSWER, "were sent again after Elasticsearch had"),
    "retry-with-new-ids": (
        "test_bulk_storms_lose_and_duplicate_nothing",
        "extra (in the index, not in the source",
    ),
    "bulk-not-retried-when-unreachable": (
        "test_elasticsearch_killed_and_restarted_mid_sync_loses_nothing",
        "a sync failed over an Elasticsearch restart",
    ),
    "bulk-timeout-not-retried": (
        "test_elasticsearch_frozen_past_the_request_timeout_is_waited_out",
        "a sync failed over a 8s freeze",
    ),
    "mass-delete-unguarded": (
        "test_an_emptied_source_is_guarded_then_emptied_on_request",
        "deleted every document of the index without the override",
    ),
    "new-documents-taken-for-stale": (
        "test_a_sync_that_deletes_and_inserts_keeps_every_new_document",
        "missing (in the source, not in the index)",
    ),
    "total-count-is-indexed-count": (
        "test_second_full_sync_writes_nothing",
        "total_document_count is 0, the index holds",
    ),
    "failed-job-without-error": (
        "test_unreachable_source_fails_clearly",
        "the job failed and its error field does not say why",
    ),
    "connector-not-following-its-job": (
        "test_full_sync",
        "the connector's last_sync_status is None, its last job is 'completed'",
    ),
    "password-in-connection-error": (
        "test_a_rejected_password_is_never_shown",
        "secret leaked: the value of 'password' appears in the subject's output",
    ),
    "sensitive-value-in-type-error": (
        "test_generated_bad_configurations_are_refused_clearly_and_write_nothing",
        "the planted password is shown",
    ),
    "unknown-fields-ignored": (
        "test_bad_config_fails_clearly_and_leaves_the_index_untouched",
        "'databse' is not named as a field (databse:)",
    ),
    "first-problem-only": (
        "test_bad_config_fails_clearly_and_leaves_the_index_untouched",
        "'port' is not named as a field (port:)",
    ),
    "rejected-counted-as-indexed": (
        "test_documents_elasticsearch_rejects_fail_the_job_and_are_named",
        "rejected documents reported success",
    ),
    "cursor-strictly-greater": (
        "test_rows_committed_later_at_the_cursor_value_are_picked_up",
        "missing (in the source, not in the index)",
    ),
    "cursor-from-the-last-row-read": (
        "test_incremental_sync_picks_up_exactly_the_changes",
        "indexed_document_count is",
    ),
    "incremental-read-error-swallowed": (
        "test_a_failed_incremental_sync_leaves_the_cursor_and_the_next_catches_up",
        "an incremental sync whose read failed reported success",
    ),
    "no-stale-deletion": ("test_deletions", "extra (in the index, not in the source"),
    "known-ids-taken-for-unchanged": ("test_updates", "documents differ field by field"),
    "new-ids-taken-for-unchanged": ("test_inserts", "missing (in the source, not in the index)"),
    "index-made-by-the-first-write": ("test_empty_source", "no such index"),
    "cut-read-taken-for-the-end": (
        "test_a_source_connection_cut_mid_read_fails_cleanly_then_converges",
        "missing (in the source, not in the index)",
    ),
    "version-is-the-row-version": (
        "test_a_change_and_its_revert_write_nothing",
        "a sync of an unchanged source wrote to",
    ),
    "future-cursor-restarts": (
        "test_cursor_from_the_future_yields_nothing",
        "a sync of an unchanged source wrote to",
    ),
    "duplicate-ids": ("test_full_sync", "duplicates (the same source document under two ids)"),
    "dropped-last-batch": ("test_full_sync", "missing (in the source, not in the index)"),
    "wrong-type-conversion": ("test_full_sync", "price: expected"),
    "cursor-not-persisted": (
        "test_incremental_sync_picks_up_exactly_the_changes",
        "indexed_document_count is",
    ),
    "delete-after-failed-read": ("test_a_failed_read_deletes_nothing", "a failed read deleted"),
    "unescaped-composite-key": ("test_edge_cases", "missing (in the source, not in the index)"),
    "case-folded-ids": ("test_edge_cases", "missing (in the source, not in the index)"),
    "composite-key-sorted-by-name": ("test_edge_cases", "e.g. keyed_backwards:west|1"),
    "version-from-values-run-together": ("test_edge_cases", "differ field by field, in p ("),
    "nfc-normalising": (
        "test_edge_cases",
        '1 missing (in the source, not in the index), e.g. "texts:cafe\\u0301"',
    ),
    "id-split-at-first-colon": ("test_edge_cases", 'label: expected "two, changed", got "two"'),
    # Year 1 in the server's zone has a local-mean-time offset ES cannot parse.
    "timestamptz-in-server-zone": ("test_edge_cases", "failed to parse field [tstz]"),
    "date-shifted-by-zone": ("test_edge_cases", 'd: expected "2024-06-15", got "2024-06-14"'),
    "version-is-the-cursor": (
        "test_changes_the_cursor_does_not_show",
        "documents differ field by field",
    ),
    "resync-reads-everything": (
        "test_an_unchanged_resync_reads_far_less_than_a_full_sync",
        "an unchanged re-sync read",
    ),
    "unreadable-table-deleted": (
        "test_an_unreadable_table_fails_the_sync_and_deletes_nothing",
        "documents were deleted because",
    ),
    "custom-query-as-simple-query": (
        "test_a_custom_query_cannot_change_the_database",
        "'commit, begin read write, drop' changed the database",
    ),
}


# The MySQL connector under scenarios/mysql (tests/harness/broken_mysql.py).
MYSQL_CASES = {
    "mysql-unsigned-bigint-as-signed": (
        "test_edge_cases",
        'ubig: expected "18446744073709551615", got -1',
    ),
    "mysql-timestamp-in-session-zone": (
        "test_edge_cases",
        'tstz: expected "2024-06-15T02:30:00.000000Z", got "2024-06-15T00:00:00.000000Z"',
    ),
    "mysql-float-as-server-text": ("test_edge_cases", "f: expected 123456.7, got 123457.0"),
    "mysql-json-as-text": ("test_edge_cases", 'ja: expected [1, null, -3, 2.5], got "[1, '),
    "mysql-composite-key-sorted-by-name": ("test_edge_cases", "e.g. keyed_backwards:west|1"),
    "mysql-version-skips-nulls": ("test_edge_cases", "differ field by field, in p ("),
    "mysql-version-values-run-together": ("test_edge_cases", "differ field by field, in p ("),
    "mysql-set-as-text": ("test_edge_cases", 's: expected ["red", "blue"], got "red,blue"'),
    "mysql-multi-statements-on": (
        "test_a_custom_query_cannot_change_the_database",
        "'read write, commit, drop' changed the database",
    ),
    "mysql-unlisted-table-taken-for-dropped": (
        "test_an_unreadable_table_fails_the_sync_and_deletes_nothing",
        "documents were deleted because",
    ),
}
# The S3 connector under scenarios/s3 (tests/harness/broken_s3.py).
S3_CASES = {
    "s3-cursor-strictly-after": (
        "test_rows_committed_later_at_the_cursor_value_are_picked_up",
        "missing (in the source, not in the index)",
    ),
    "s3-body-truncated-at-64kb": ("test_edge_cases", 'body: expected "<text holding 6000'),
    "s3-etag-ignored": (
        "test_an_unchanged_resync_reads_far_less_than_a_full_sync",
        "an unchanged re-sync read",
    ),
    "s3-listing-stops-after-the-first-page": (
        "test_ten_pages_of_small_documents_in_one_place_all_arrive",
        "many/000100.txt",
    ),
    "s3-keys-decoded-twice": ("test_edge_cases", "edge/percentA.txt"),
    "s3-extraction-failure-drops-the-document": ("test_edge_cases", "edge/corrupt.pdf"),
    "s3-rule-extensions-case-sensitive": (
        "test_each_sync_rule_selects_exactly_its_documents",
        "under rule 'extensions, any case'",
    ),
}
RULES_SCENARIO = "test_each_sync_rule_selects_exactly_its_documents"
DLS_SCENARIO = "test_every_user_sees_exactly_what_they_may_read_before_and_after_a_change"
CONFLUENCE_CASES = {
    "confluence-cursor-strictly-after": (
        "test_rows_committed_later_at_the_cursor_value_are_picked_up",
        "missing (in the source, not in the index)",
    ),
    "confluence-last-cursor-dropped": (
        "test_full_sync",
        "missing (in the source, not in the index)",
    ),
    "confluence-retry-after-ignored": (
        "test_a_429_storm_is_waited_out_as_long_as_asked",
        "answered 429",  # retried too soon, five times: the storm outlasts the retries
    ),
    "confluence-pages-listed-by-offset": (
        "test_pages_added_and_removed_during_a_read_lose_nothing_that_stayed",
        "the connector lost its place",
    ),
    "confluence-vanished-page-fails-the-sync": (
        "test_pages_added_and_removed_during_a_read_lose_nothing_that_stayed",
        "answered 404",
    ),
    "confluence-restrictions-ignored": (DLS_SCENARIO, "LEAK: user"),
    "confluence-restricting-groups-not-expanded": (DLS_SCENARIO, "MISS: user"),
    "confluence-identities-in-the-content-index": (DLS_SCENARIO, "identities belong in"),
    "bad-rules-dropped": (
        "test_a_wrong_rule_is_refused_by_name_and_deletes_nothing",
        "a sync under the wrong rule 'a basic rule that is not one' reported success",
    ),
    # The basic sync rules (tests/harness/broken_rules.py), through the Confluence fixture's
    # rule cases.
    "rules-in-list-order": (RULES_SCENARIO, "under rule 'basic: ordered, default exclude'"),
    "rules-starts-with-as-contains": (
        RULES_SCENARIO,
        "under rule 'basic: ordered, default exclude'",
    ),
    "rules-regex-searched": (RULES_SCENARIO, "under rule 'basic: a regex matches the whole"),
    "rules-regex-matched-at-the-start": (
        RULES_SCENARIO,
        "under rule 'basic: a regex matches the whole",
    ),
    "rules-numbers-compared-as-strings": (
        RULES_SCENARIO,
        "under rule 'basic: version > 9, as numbers'",
    ),
}
# Variants that must live in the processes the cli subject starts (a service, a killed
# sync): put there by tests/broken_in_subprocess (PostgreSQL suite).
PROCESS_CASES = {
    "service-stop-waits-for-the-job": (
        "test_a_service_stopped_mid_job_suspends_it_and_the_next_resumes_it",
        "assert 'completed' == 'suspended'",
    ),
    "no-heartbeat-reclaim": (
        "test_a_sync_killed_mid_sync_is_given_up_and_the_next_converges",
        "jobs left unfinished",
    ),
    "no-per-connector-lease": (
        "test_three_services_run_queued_jobs_once_each_one_at_a_time",
        "jobs of one connector ran at the same time",
    ),
    "service-sweep-takes-every-unleased-job": (
        "test_a_running_service_ends_a_lost_job_and_spares_a_live_one",
        "which was heard of at each heartbeat",
    ),
}
IN_SUBPROCESS = ROOT / "tests" / "broken_in_subprocess"
SUITES = {
    "postgresql": "scenarios/postgres/test_postgresql.py",
    "mysql": "scenarios/mysql",
    "s3": "scenarios/s3",
    "confluence": "scenarios/confluence",
}
CONNECTOR_CASES = {"mysql": MYSQL_CASES, "s3": S3_CASES, "confluence": CONFLUENCE_CASES}


@pytest.fixture(scope="module")
def shared_services(tmp_path_factory):
    """One ES and one PostgreSQL for all the inner runs, stopped at the end."""
    with private_service_state(tmp_path_factory.mktemp("state")) as env:
        yield env


def run_suite(
    env: dict[str, str],
    select: str,
    variant: str | None,
    suite: str = SUITES["postgresql"],
    in_process: bool = True,
) -> subprocess.CompletedProcess:
    """The suite's scenarios ``select`` with ``variant``: in this process's subject, or,
    with ``in_process`` false, in every process the cli subject starts."""
    args = [
        sys.executable,
        "-m",
        "pytest",
        suite,
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "tests.harness.broken_variants",
        "--backend",
        "local",
        "--reuse-services",
        "--subject",
        "inprocess" if in_process else "cli",
        "--corpus-size",
        "tiny",
        "-k",
        select,
    ]
    if variant and in_process:
        args += ["--broken-variant", variant]
    elif variant:
        path = os.pathsep.join([str(IN_SUBPROCESS), str(ROOT), env.get("PYTHONPATH", "")])
        env = env | {"PYTHONPATH": path, "HARNESS_TEST_BROKEN_VARIANT": variant}
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.parametrize(
    "variant", sorted(CASES) + sorted(MYSQL_CASES) + sorted(S3_CASES) + sorted(CONFLUENCE_CASES)
)
def test_a_broken_connector_fails_the_suite(shared_services, variant):
    connector = next((c for c, cases in CONNECTOR_CASES.items() if variant in cases), None)
    if connector is not None:
        scenario, message = CONNECTOR_CASES[connector][variant]
        done = run_suite(shared_services, scenario, variant, SUITES[connector])
    else:
        scenario, message = CASES[variant]
        done = run_suite(shared_services, scenario, variant)
    output = done.stdout + done.stderr
    assert done.returncode == 1, f"the suite did not fail on {variant}:\n{output[-3000:]}"
    assert message in output, (
        f"the failure does not name the problem {message!r}:\n{output[-3000:]}"
    )


@pytest.mark.parametrize("variant", sorted(PROCESS_CASES))
def test_a_broken_process_fails_the_suite(shared_services, variant):
    scenario, message = PROCESS_CASES[variant]
    done = run_suite(shared_services, scenario, variant, in_process=False)
    output = done.stdout + done.stderr
    assert done.returncode == 1, f"the suite did not fail on {variant}:\n{output[-3000:]}"
    assert message in output, f"the failure does not name {message!r}:\n{output[-3000:]}"


def test_the_unbroken_processes_pass_the_same_scenarios(shared_services):
    scenarios = sorted({scenario for scenario, _ in PROCESS_CASES.values()})
    done = run_suite(shared_services, " or ".join(scenarios), None, in_process=False)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert f"{len(scenarios)} passed" in done.stdout


@pytest.mark.parametrize("connector", ["postgresql", "mysql", "s3", "confluence"])
def test_the_unbroken_connector_passes_the_same_scenarios(shared_services, connector):
    cases = CONNECTOR_CASES.get(connector, CASES)
    scenarios = sorted({scenario for scenario, _ in cases.values()})
    done = run_suite(shared_services, " or ".join(scenarios), None, SUITES[connector])
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert f"{len(scenarios)} passed" in done.stdout
