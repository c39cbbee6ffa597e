"""Broken variants for the fault and outcome scenarios: retries, leases and heartbeats,
the job record, secrets, configuration checks, deletion scope and incremental boundaries.
Registered through ``OUTCOME_VARIANTS`` in broken_variants.py."""

from __future__ import annotations

from typing import Any

from psycopg import sql

from connectors import sync as sync_module
from connectors.sources.postgresql.source import PostgreSQLDataSource


def _no_retry_on_state_requests() -> None:
    from connectors.es.retrying import RetryPolicy

    async def once(self: Any, method: str, path: str, where: str, send: Any) -> Any:
        return await send()

    RetryPolicy.run = once  # type: ignore[method-assign]


def _no_heartbeat_reclaim() -> None:
    from connectors import api, liveness

    async def ignore(*_args: Any, **_kwargs: Any) -> None:
        return None

    async def none_lost(*_args: Any, **_kwargs: Any) -> list[str]:
        return []

    liveness.give_up_for_lost = ignore  # type: ignore[assignment]
    api.give_up_for_lost = ignore  # type: ignore[assignment]
    liveness.reclaim_lost_jobs = none_lost  # type: ignore[assignment]
    api.reclaim_lost_jobs = none_lost  # type: ignore[assignment]


def _no_per_connector_lease() -> None:
    from connectors.es import lease

    async def granted(_client: Any, connector_id: str, job_id: str, _ttl: float) -> Any:
        return lease.Grant(connector_id, job_id, "no-lease")

    async def nothing(*_args: Any, **_kwargs: Any) -> None:
        return None

    async def always(*_args: Any, **_kwargs: Any) -> bool:
        return True

    lease.acquire = granted  # type: ignore[assignment]
    lease.renew = nothing  # type: ignore[assignment]
    lease.release = nothing  # type: ignore[assignment]
    lease.holds = always  # type: ignore[assignment]


def _retry_with_new_ids() -> None:
    """A retry that rebuilds its batch with fresh ids: duplicates when the first attempt
    was applied but its answer lost."""
    from connectors.es.bulk_transport import HttpBulkTransport

    original = HttpBulkTransport.send
    sent: set[bytes] = set()

    async def send(self, body: bytes):  # type: ignore[no-untyped-def]
        if body in sent:
            body = body.replace(b'"_id":"', b'"_id":"retry-')
        sent.add(body)
        return await original(self, body)

    HttpBulkTransport.send = send  # type: ignore[method-assign]


def _bulk_not_retried_when_unreachable() -> None:
    """A sink that retries busy answers (429/503) but gives up on a refused or dropped
    connection: a cluster restarting mid-sync fails the sync."""
    from connectors.es.bulk_transport import BulkRejected, BulkUnavailable, HttpBulkTransport

    original = HttpBulkTransport.send

    async def send(self, body: bytes):  # type: ignore[no-untyped-def]
        try:
            return await original(self, body)
        except BulkUnavailable as exc:
            raise BulkRejected(599, f"unreachable: {exc}") from None

    HttpBulkTransport.send = send  # type: ignore[method-assign]


def _mass_delete_unguarded() -> None:
    """The guard's fraction is never consulted: an emptied source empties the index."""
    original = sync_module._delete_stale

    async def delete(source, client, index, snapshot, options, result):  # type: ignore[no-untyped-def]
        options.allow_mass_delete = True
        return await original(source, client, index, snapshot, options, result)

    sync_module._delete_stale = delete  # type: ignore[assignment]


def _new_documents_taken_for_stale() -> None:
    """Stale = "not seen among what the index held": ids written during the sync, absent
    from the snapshot, count as stale too."""
    from connectors.es.snapshot import IndexSnapshot

    def is_stale(self, id_hashes):  # type: ignore[no-untyped-def]
        pos, found = self._positions(id_hashes)
        if not len(self.ids):
            return ~found
        return ~found | ~self.seen[pos]

    IndexSnapshot.is_stale = is_stale  # type: ignore[method-assign]


def _total_count_is_indexed_count() -> None:
    from connectors import jobs

    original = jobs._counts

    async def counts(client, index, result):  # type: ignore[no-untyped-def]
        fields = await original(client, index, result)
        fields["total_document_count"] = result.indexed
        return fields

    jobs._counts = counts  # type: ignore[assignment]


def _failed_job_without_error() -> None:
    """The caller hears why the job failed; the job record does not say."""
    from connectors import jobs

    original = jobs.end_job

    async def end_job(client, job_id, connector, status, error, result=None, grant=None):  # type: ignore[no-untyped-def]
        recorded = None if status == "error" else error
        done = await original(client, job_id, connector, status, recorded, result, grant)
        return done[0], done[1], error

    jobs.end_job = end_job  # type: ignore[assignment]


def _connector_not_following_its_job() -> None:
    """The connector document's last_sync_status is set when a job starts, never at its end."""
    from connectors.es.state import ConnectorStore

    original = ConnectorStore.update

    async def update(self, connector_id, fields):  # type: ignore[no-untyped-def]
        fields = {k: v for k, v in fields.items() if k != "last_sync_status"}
        return await original(self, connector_id, fields)

    ConnectorStore.update = update  # type: ignore[method-assign]


def _password_in_connection_error() -> None:
    """The connection error shows the whole DSN, password included."""

    def where(self):  # type: ignore[no-untyped-def]
        c = self.config
        return (
            f"postgresql://{c['username']}:{c['password']}@{c['host']}:{c['port']}/{c['database']}"
        )

    PostgreSQLDataSource._where = where  # type: ignore[method-assign]


def _sensitive_value_in_type_error() -> None:
    """A sensitive field of the wrong type refused with its value shown: the masking
    applied to the value's checks, forgotten in the type check before them."""
    from connectors.config import TYPES, ConfigField

    original = ConfigField.check

    def check(self: Any, value: Any) -> list[str]:
        if self.sensitive and not isinstance(value, TYPES[self.type]):
            return [f"{self.name}: expected {self.type}, got {type(value).__name__} {value!r}"]
        return original(self, value)

    ConfigField.check = check  # type: ignore[method-assign]


def _unknown_fields_ignored() -> None:
    """A misspelt field is dropped silently (the field it meant is then reported missing)."""
    from connectors.config import ConfigSchema

    original = ConfigSchema.parse

    def parse(self, raw):  # type: ignore[no-untyped-def]
        known = {f.name for f in self.fields}
        return original(self, {k: v for k, v in raw.items() if k in known})

    ConfigSchema.parse = parse  # type: ignore[method-assign]


def _first_problem_only() -> None:
    from connectors.config import ConfigError, ConfigSchema

    original = ConfigSchema.parse

    def parse(self, raw):  # type: ignore[no-untyped-def]
        try:
            return original(self, raw)
        except ConfigError as exc:
            raise ConfigError(exc.problems[:1]) from None

    ConfigSchema.parse = parse  # type: ignore[method-assign]


def _rejected_counted_as_indexed() -> None:
    """Any answered item is counted as indexed, a rejected one too."""
    from connectors.es.sink import SinkStats

    def record_failure(self, failure):  # type: ignore[no-untyped-def]
        self.indexed += 1

    SinkStats.record_failure = record_failure  # type: ignore[method-assign]


def _cursor_strictly_greater() -> None:
    """Rows after the cursor are read with ``>``: rows committed later at exactly the
    stored value are never read."""
    from connectors.sources.postgresql.queries import Plan

    def since(self):  # type: ignore[no-untyped-def]
        return sql.SQL("t.{} > %s").format(sql.Identifier(self.cursor_column))

    Plan.since = since  # type: ignore[method-assign]


def _incremental_read_error_swallowed() -> None:
    """An incremental read that fails part-way is taken for a complete one."""
    original = sync_module.incremental_sync

    async def incremental_sync(source, client, index, cursor, options):  # type: ignore[no-untyped-def]
        result = await original(source, client, index, cursor, options)
        if result.error:
            result.error, result.read_complete = None, True
            result.cursor = source.next_cursor()
        return result

    sync_module.incremental_sync = incremental_sync  # type: ignore[assignment]
    from connectors import jobs

    jobs.incremental_sync = incremental_sync  # type: ignore[attr-defined]


def _cursor_from_the_last_row_read() -> None:
    """Changes are read in storage order, and the cursor is the last row's value: right only
    when rows happen to be stored in cursor order."""
    from connectors.sources.postgresql.queries import Plan

    original = Plan.documents

    def documents(self, where=None, by_cursor=False):  # type: ignore[no-untyped-def]
        return original(self, where, False)

    Plan.documents = documents  # type: ignore[method-assign]


OUTCOME_VARIANTS = {
    "no-retry-on-state-requests": _no_retry_on_state_requests,
    "no-heartbeat-reclaim": _no_heartbeat_reclaim,
    "no-per-connector-lease": _no_per_connector_lease,
    "retry-with-new-ids": _retry_with_new_ids,
    "bulk-not-retried-when-unreachable": _bulk_not_retried_when_unreachable,
    # The same bug met by a frozen node: the request times out instead of being refused.
    "bulk-timeout-not-retried": _bulk_not_retried_when_unreachable,
    "mass-delete-unguarded": _mass_delete_unguarded,
    "cursor-strictly-greater": _cursor_strictly_greater,
    "cursor-from-the-last-row-read": _cursor_from_the_last_row_read,
    "incremental-read-error-swallowed": _incremental_read_error_swallowed,
    "rejected-counted-as-indexed": _rejected_counted_as_indexed,
    "unknown-fields-ignored": _unknown_fields_ignored,
    "first-problem-only": _first_problem_only,
    "password-in-connection-error": _password_in_connection_error,
    "sensitive-value-in-type-error": _sensitive_value_in_type_error,
    "new-documents-taken-for-stale": _new_documents_taken_for_stale,
    "total-count-is-indexed-count": _total_count_is_indexed_count,
    "failed-job-without-error": _failed_job_without_error,
    "connector-not-following-its-job": _connector_not_following_its_job,
}
