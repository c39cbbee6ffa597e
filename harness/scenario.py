"""A connector's scenario declaration, and one scenario's run: the source fixture, the
subject, the index and the connector id, with the outcome checks bound to them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

from harness import state_index
from harness.capabilities import Proxied, check_declaration
from harness.checks.assertions import (
    assert_index_matches_source,
    assert_job_record,
    assert_nothing_written,
    check_job,
)
from harness.checks.byte_counter import ByteCounter
from harness.checks.index_reader import IndexReader
from harness.checks.secret_leaks import leak_problems
from harness.services.es_http import ElasticsearchEndpoint, EsHttpError, es_request
from harness.subjects import ConnectorSpec, SyncOutcome, SyncSubject
from harness.subjects.result_protocol import as_job_record

T = TypeVar("T")


class SourceFixture(Protocol):
    """What ``fixtures/<connector>.py`` provides for the scenarios every connector runs;
    each declared capability needs more (``harness.capabilities``: its Protocol)."""

    # The fields an error about ``invalid_configuration()`` must name (each as "field:"),
    # and its misspelt fields with the name the error must suggest for each.
    @property
    def invalid_fields(self) -> tuple[str, ...]: ...
    @property
    def misspellings(self) -> dict[str, str]: ...

    def load(self, size: str | int) -> None: ...
    def load_edge_cases(self) -> None: ...
    def load_identity_cases(self) -> None:
        """The shared identity corpus (fixtures/identity.py) in this source."""
        ...

    def change_identity_cases(self) -> int:
        """Change one non-key value in each identity table; returns how many rows."""
        ...

    def mutate(self, update: float = 0.0, delete: float = 0.0, insert: float = 0.0) -> Any: ...
    def mutate_quietly(self, update: float) -> Any:
        """Change one column of a fraction of rows, leaving the cursor column alone."""
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

    def read_in_small_pieces(self) -> None:
        """Have ``configuration()`` read in small round trips (a fetch size, a page size),
        so a fault scenario's disruption lands between acknowledged writes; a source that
        cannot may do nothing."""
        ...

    def expected_docs(self) -> Any: ...
    def expected_count(self) -> int: ...
    def configuration(self) -> dict[str, Any]: ...
    def unreachable_configuration(self) -> dict[str, Any]: ...

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

    def __post_init__(self) -> None:
        check_declaration(self.connector, self.fixture, self.capabilities)


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

    def able(self, capability: Callable[..., T]) -> T:
        """The fixture as a capability's Protocol (``harness.capabilities``), for the
        scenarios of that capability: the declaration was checked to provide it."""
        return cast(T, self.fixture)

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
        result it reported (harness/subjects/result_protocol.py) in the record's shape."""
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
        with ByteCounter(*self.able(Proxied).source_address()) as counter:
            yield counter, self.able(Proxied).configuration_through(counter.address)

    def set_cursor(self, cursor: Any) -> None:
        """Through the connector protocol's state, as a user editing the connector would."""
        es_request(
            self.es,
            "POST",
            state_index.connector_update(self.connector_id),
            {"doc": {"sync_cursor": cursor}},
        )

    def cleanup(self) -> None:
        self.fixture.drop()
        es_request(self.es, "DELETE", f"/{self.index}?ignore_unavailable=true")
        try:
            es_request(self.es, "DELETE", state_index.connector_doc(self.connector_id))
        except EsHttpError as exc:
            if exc.status != 404:
                raise
