"""A connector's scenario declaration, and one scenario's run: the source fixture, the
subject, the index and the connector id, with the outcome checks bound to them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.assertions import (
    assert_index_matches_source,
    assert_job_record,
    assert_nothing_written,
    check_job,
)
from harness.byte_counter import ByteCounter
from harness.index_reader import IndexReader
from harness.result_protocol import as_job_record
from harness.secret_leaks import leak_problems
from harness.services.es_http import ElasticsearchEndpoint, EsHttpError, es_request
from harness.subjects import ConnectorSpec, SyncOutcome, SyncSubject


class SourceFixture(Protocol):
    """What ``fixtures/<connector>.py`` provides for the standard suite."""

    # The fields an error about ``invalid_configuration()`` must name (each as "field:"),
    # and its misspelt fields with the name the error must suggest for each.
    invalid_fields: tuple[str, ...]
    misspellings: dict[str, str]

    def load(self, size: str | int) -> None: ...
    def load_edge_cases(self) -> None: ...
    def load_identity_cases(self) -> None:
        """The shared identity corpus (fixtures/identity.py) in this source."""
        ...

    def load_rejects(self) -> tuple[dict[str, Any], list[str]]:
        """Capability ``rejected_documents``: rows Elasticsearch must reject under an
        explicit mapping; returns (the mapping's properties, the ids to be rejected)."""
        ...

    def change_identity_cases(self) -> int:
        """Change one non-key value in each identity table; returns how many rows."""
        ...

    def mutate(self, update: float = 0.0, delete: float = 0.0, insert: float = 0.0) -> Any: ...
    def mutate_quietly(self, update: float) -> Any:
        """Change one column of a fraction of rows, leaving the cursor column alone."""
        ...

    def change_and_revert(self, update: float) -> int:
        """Change a fraction of rows and put them back (A -> B -> A); returns how many."""
        ...

    def restyle_numeric(self) -> int:
        """Rewrite an edge-case value the same once normalised (1.0 -> 1.00); returns rows."""
        ...

    def poison(self) -> tuple[str, ...]:
        """Make the next read fail part-way; return the words its error must contain (the
        table, and the source's own message)."""
        ...

    def cure(self) -> None:
        """Undo ``poison``: the next read succeeds and sees every row."""
        ...

    def insert_at_latest_cursor(self, count: int) -> Any:
        """Capability ``incremental``: ``count`` new rows committed now whose cursor value
        equals the greatest one already in the source; returns the mutation."""
        ...

    def revoke_read(self) -> str:
        """Capability ``table_privileges``: revoke the connector's read access to one small
        table (loaded by ``load_edge_cases``); return its name as errors must give it."""
        ...

    def break_outs(self) -> list[Any]:
        """Capability ``custom_query_safety``: create what the break-outs aim at, and
        return them (``harness.custom_query_suite.BreakOut``, every class tried)."""
        ...

    def inventory(self) -> Any:
        """Capability ``custom_query_safety``: what the database holds, comparable with
        ``==`` (tables and contents, sequences, routines, files the server could write)."""
        ...

    def privileged_configuration(self, queries: list[dict[str, Any]]) -> dict[str, Any]:
        """Capability ``custom_query_safety``: the connector's configuration with these
        custom queries, run as a user who may write anything."""
        ...

    def rule_cases(self) -> list[Any]:
        """Capability ``sync_rules``: ``harness.rules_suite.RuleCase``s over the corpus of
        ``load("tiny")`` and ``load_edge_cases()``, each selecting some documents, not all."""
        ...

    def invalid_rules(self) -> list[Any]:
        """Capability ``sync_rules``: ``harness.rules_suite.InvalidRule``s."""
        ...

    def load_many_small(self, count: int) -> int:
        """Capability ``pagination``: ``count`` small documents in one place (a prefix, a
        space); returns how many pages the connector's default listing takes for them."""
        ...

    def rate_limit(self, requests: int, window_s: float, retry_after_s: int) -> None:
        """Capability ``rate_limited``: from now on, beyond ``requests`` per ``window_s``
        the source answers 429 with ``Retry-After: retry_after_s``."""
        ...

    def rate_limit_report(self) -> tuple[int, float | None]:
        """How many requests were refused, and the shortest wait the connector left after
        a 429 minus what it was asked to wait (negative: too early)."""
        ...

    def churn_during_reads(self, changes_per_page: int) -> None:
        """Capability ``unstable_pagination``: from now on, after every answer that has a
        next page, ``changes_per_page`` items are added or removed (0: calm again)."""
        ...

    def churn_report(self) -> int:
        """How many such changes have landed."""
        ...

    def dls_configuration(self) -> dict[str, Any]:
        """Capability ``dls``: ``configuration()`` with document-level security on."""
        ...

    def visible_ids(self) -> dict[str, set[str]]:
        """Capability ``dls``: for every user (by the id of their identity document), the
        ids of the documents the source lets them read, from the source's own state."""
        ...

    def change_access(self) -> str:
        """Capability ``dls``: change who may read what (a restriction, a membership) so
        that what at least two users see moves; return a description of the change."""
        ...

    def read_in_small_pieces(self) -> None:
        """Have ``configuration()`` read in small round trips (a fetch size, a page size),
        so a fault scenario's disruption lands between acknowledged writes; a source that
        cannot may do nothing."""
        ...

    def expected_docs(self) -> Any: ...
    def expected_count(self) -> int: ...
    def configuration(self) -> dict[str, Any]: ...
    def unreachable_configuration(self) -> dict[str, Any]: ...
    def source_address(self) -> tuple[str, int]:
        """Where the source listens (TCP), for a byte-counting proxy in front of it."""
        ...

    def configuration_through(self, address: tuple[str, int]) -> dict[str, Any]:
        """``configuration()`` pointed at ``address`` (the proxy) instead."""
        ...

    def unreachable_location(self, configuration: dict[str, Any]) -> str:
        """What an error about that configuration must show of where it connected."""
        ...

    def invalid_configuration(self) -> dict[str, Any]: ...
    def future_cursor(self) -> Any: ...
    def drop(self) -> None: ...


def make_fixture(scenario: ConnectorScenario, services: Any, name: str, seed: int) -> Any:
    """The scenario's source fixture on the session's services (``services.endpoint(kind)``),
    with the endpoints of the other kinds it needs."""
    endpoint = services.endpoint(scenario.service)
    if not scenario.needs:
        return scenario.fixture(endpoint, name, seed)
    others = {kind: services.endpoint(kind) for kind in scenario.needs}
    return scenario.fixture(endpoint, name, seed, services=others)


@dataclass(frozen=True)
class ConnectorScenario:
    """Everything the standard suite needs to know about a connector."""

    connector: str  # the source's registered name (service_type)
    service: str  # the harness service the source needs: "postgresql", ...
    # (endpoint, namespace name, seed[, services={kind: endpoint} for ``needs``])
    fixture: Callable[..., SourceFixture]
    capabilities: frozenset[str] = frozenset()  # "incremental", ...: see @requires
    needs: tuple[str, ...] = ()  # other service kinds the connector uses ("extraction")
    ignore_fields: tuple[str, ...] = ("_content_hash",)  # runtime metadata, not content
    change_fraction: float = 0.05


@dataclass
class SyncRecord:
    scenario: str
    mode: str
    docs: int
    seconds: float


@dataclass
class ScenarioRun:
    scenario: ConnectorScenario
    name: str
    fixture: SourceFixture
    subject: SyncSubject
    es: ElasticsearchEndpoint
    index: str
    connector_id: str
    records: list[SyncRecord] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # figures a fault scenario reports
    last_outcome: SyncOutcome | None = None
    last_mode: str = "full"

    def spec(
        self,
        configuration: dict[str, Any] | None = None,
        basic_rules: list[dict[str, Any]] | None = None,
    ) -> ConnectorSpec:
        return ConnectorSpec(
            self.connector_id,
            self.scenario.connector,
            self.index,
            configuration if configuration is not None else self.fixture.configuration(),
            list(basic_rules or []),
        )

    def sync(
        self,
        mode: str = "full",
        configuration: dict[str, Any] | None = None,
        expect_ok: bool = True,
        allow_mass_delete: bool = False,
        basic_rules: list[dict[str, Any]] | None = None,
    ) -> SyncOutcome:
        spec = self.spec(configuration, basic_rules)
        outcome = self.subject.sync(spec, mode, allow_mass_delete)
        self.last_outcome, self.last_mode = outcome, mode
        self.records.append(SyncRecord(self.name, mode, outcome.docs, outcome.seconds))
        if expect_ok and not outcome.ok:
            raise AssertionError(f"{mode} sync failed ({outcome.status}): {outcome.error}")
        return outcome

    def assert_no_secret_leak(
        self, outcome: SyncOutcome, configuration: dict[str, Any] | None = None
    ) -> None:
        """No secret of the configuration the sync used shows outside where it belongs."""
        used = configuration if configuration is not None else self.fixture.configuration()
        problems = leak_problems(
            self.es, self.connector_id, outcome, used, self.subject.records_jobs
        )
        assert not problems, "secret leaked: " + "; ".join(problems)

    def note(self, **facts: Any) -> None:
        """Figures for the end-of-run table (time to recover, faults injected...)."""
        self.facts.update(facts)

    def assert_index_matches(self, except_ids: Iterable[str] = ()) -> None:
        """The index holds exactly the source's documents (but ``except_ids``)."""
        left_out = set(except_ids)

        def expected() -> Iterator[tuple[str, dict[str, Any]]]:
            return (d for d in self.fixture.expected_docs() if d[0] not in left_out)

        assert_index_matches_source(
            self.es, self.index, expected, self.scenario.ignore_fields, self.reader()
        )

    def reader(self, configuration: dict[str, Any] | None = None) -> IndexReader:
        """The index as the assertions read it: through the subject's view where its
        documents have another shape (subject ``elastic``)."""
        plain = IndexReader(self.es, self.index)
        view = getattr(self.subject, "index_view", None)
        if view is None:
            return plain
        used = configuration if configuration is not None else self.fixture.configuration()
        reader: IndexReader = view(plain, self.spec(used))
        return reader

    def assert_job(
        self, status: str = "completed", job_type: str | None = None, **counts: int
    ) -> None:
        """The last sync's job record; for a subject that keeps no connector state, the
        result it reported (harness/result_protocol.py) in the record's shape."""
        if self.subject.records_jobs:
            assert_job_record(
                self.es, self.connector_id, status=status, job_type=job_type, **counts
            )
            return
        outcome = self.last_outcome
        if outcome is not None and outcome.reported:
            total = IndexReader(self.es, self.index).count()
            record = as_job_record(outcome.counts, self.last_mode, total)
            check_job(
                record, f"the result {self.subject.name} reported", status, job_type, **counts
            )

    def failing_sync(self) -> tuple[SyncOutcome, int]:
        """A sync that is expected to fail: its outcome, and how many documents it deleted
        (a failure must never cost the user documents)."""
        before = self.write_stats()
        outcome = self.sync(expect_ok=False)
        return outcome, self.write_stats()[1] - before[1]

    def assert_read(self, expected: int) -> None:
        """The last sync read exactly ``expected`` documents from the source, as the
        subject reports it (``seen``); subjects that report nothing are not judged."""
        outcome = self.last_outcome
        if outcome is not None and "seen" in outcome.counts:
            seen = outcome.counts["seen"]
            assert seen == expected, (
                f"the sync reports {seen} documents read from the source, which holds "
                f"{expected}: its counts (and docs/s) are wrong"
            )

    def index_count(self) -> int:
        return IndexReader(self.es, self.index).count()

    def write_stats(self) -> tuple[int, int, int]:
        return IndexReader(self.es, self.index).write_stats()

    def assert_nothing_written_since(self, before: tuple[int, int, int]) -> None:
        IndexReader(self.es, self.index).refresh()
        assert_nothing_written(before, self.write_stats(), self.index)

    @contextmanager
    def counting_source_bytes(self) -> Iterator[tuple[ByteCounter, dict[str, Any]]]:
        """A byte-counting proxy in front of the source, and the configuration that goes
        through it: how much a sync read, for any connector."""
        with ByteCounter(*self.fixture.source_address()) as counter:
            yield counter, self.fixture.configuration_through(counter.address)

    def set_cursor(self, cursor: Any) -> None:
        """Through the connector protocol's state, as a user editing the connector would."""
        es_request(
            self.es,
            "POST",
            f"/.elastic-connectors/_update/{self.connector_id}?refresh=true",
            {"doc": {"sync_cursor": cursor}},
        )

    def cleanup(self) -> None:
        self.fixture.drop()
        es_request(self.es, "DELETE", f"/{self.index}?ignore_unavailable=true")
        try:
            es_request(self.es, "DELETE", f"/.elastic-connectors/_doc/{self.connector_id}")
        except EsHttpError as exc:
            if exc.status != 404:
                raise
