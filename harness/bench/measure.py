"""One measured sync (the `connectors` CLI in a subprocess: its own timing, its peak RSS)
and the ceilings it is divided by: raw `_bulk` of the same documents into a twin index
(for syncs that write), or a raw read of the index's ids and hashes (for the unchanged
re-sync, which writes nothing and reads the index)."""

from __future__ import annotations

import concurrent.futures
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from connectors import defaults as runtime_defaults
from connectors.documents import HASH_FIELD
from harness.checks.index_reader import IndexReader
from harness.services.es_http import ElasticsearchEndpoint, es_request
from harness.subjects.connectors_cli import sync_connector

# The ceiling batches exactly like the runtime: its own defaults, not a copy.
BULK_DOCS = runtime_defaults.BULK_MAX_DOCS
BULK_BYTES = runtime_defaults.BULK_MAX_BYTES


@dataclass
class SyncSample:
    docs: int  # documents the sync went through (seen)
    written: int  # documents indexed
    seconds: float  # the engine's own time, start to refreshed index
    wall_seconds: float  # the whole process, interpreter start included
    peak_rss_mb: float
    mb: float  # bulk payload sent
    cpu_seconds: float = 0.0  # the sync process's CPU over the engine's span
    figures: dict[str, float] = field(default_factory=dict)  # the fixture's (measure_round)

    @property
    def docs_per_second(self) -> float:
        return self.docs / self.seconds if self.seconds else 0.0

    @property
    def docs_per_cpu_second(self) -> float:
        return self.docs / self.cpu_seconds if self.cpu_seconds else 0.0

    @property
    def mb_per_second(self) -> float:
        return self.mb / self.seconds if self.seconds else 0.0


@dataclass
class CeilingSample:
    docs: int
    seconds: float
    mb: float
    kind: str = "bulk"  # "bulk": raw writes; "scan": a raw read of ids and hashes

    @property
    def docs_per_second(self) -> float:
        return self.docs / self.seconds if self.seconds else 0.0


def cli_sync(
    es: ElasticsearchEndpoint,
    connector_id: str,
    mode: str = "full",
    extra_env: dict[str, str] | None = None,
    measure_round: Callable[[], Callable[[float], dict[str, float]]] | None = None,
) -> SyncSample:
    """``measure_round``: called before the sync, it returns what gives the round's own
    figures (the extraction share...) from the sync's seconds, once it is done."""
    figures = measure_round() if measure_round else None
    started = time.perf_counter()
    done = sync_connector(es, connector_id, mode, extra_env=extra_env)
    wall = time.perf_counter() - started
    # The sync reports its own peak RSS (VmHWM): a reaped child's rusage is only a running
    # maximum over all children.
    if done.returncode != 0:
        raise RuntimeError(f"benchmark sync failed: {done.stderr[-500:]}")
    out = json.loads(done.stdout)
    return SyncSample(
        docs=out["seen"],
        written=out["indexed"],
        seconds=out["seconds"],
        wall_seconds=wall,
        peak_rss_mb=out["peak_rss_mb"],
        mb=out.get("bytes_sent", 0) / 1024 / 1024,
        cpu_seconds=out.get("cpu_seconds", 0.0),
        figures=figures(out["seconds"]) if figures else {},
    )


def index_stats(es: ElasticsearchEndpoint, index: str) -> dict[str, Any]:
    """Elasticsearch's own view: indexing operations and time, store size."""
    stats = es_request(es, "GET", f"/{index}/_stats/indexing,store,refresh")
    primaries = stats["indices"][index]["primaries"]
    return {
        "index_total": primaries["indexing"]["index_total"],
        "index_time_ms": primaries["indexing"]["index_time_in_millis"],
        "refresh_time_ms": primaries["refresh"]["total_time_in_millis"],
        "store_mb": round(primaries["store"]["size_in_bytes"] / 1024 / 1024, 2),
    }


def bulk_bodies(es: ElasticsearchEndpoint, index: str, target: str) -> list[bytes]:
    """The synced index's documents, pre-serialised into `_bulk` bodies for ``target``,
    batched like the runtime batches (1000 docs or 5 MB)."""
    reader = IndexReader(es, index)
    bodies: list[bytes] = []
    batch: list[bytes] = []
    size = 0
    ids = list(reader.ids())
    for start in range(0, len(ids), BULK_DOCS):
        for doc_id, source in reader.get_many(ids[start : start + BULK_DOCS]).items():
            line = (
                orjson.dumps({"index": {"_index": target, "_id": doc_id}})
                + b"\n"
                + orjson.dumps(source)
                + b"\n"
            )
            batch.append(line)
            size += len(line)
            if len(batch) >= BULK_DOCS or size >= BULK_BYTES:
                bodies.append(b"".join(batch))
                batch, size = [], 0
    if batch:
        bodies.append(b"".join(batch))
    return bodies


def index_definition(es: ElasticsearchEndpoint, index: str) -> dict[str, Any]:
    """An index's mappings and user settings, to create its twin."""
    mappings = es_request(es, "GET", f"/{index}/_mapping")[index]["mappings"]
    settings = es_request(es, "GET", f"/{index}/_settings")[index]["settings"]["index"]
    kept = {
        k: v
        for k, v in settings.items()
        if k in ("number_of_shards", "number_of_replicas", "refresh_interval", "codec")
    }
    return {"settings": kept, "mappings": mappings}


def bulk_ceiling(
    es: ElasticsearchEndpoint,
    source: str,
    target: str,
    bodies: list[bytes],
    concurrency: int = runtime_defaults.BULK_CONCURRENCY,
) -> CeilingSample:
    """Time creating the index and raw `_bulk` of pre-serialised bodies with the runtime's
    concurrency, up to a refreshed index: the same span the sync's own timing covers."""
    definition = index_definition(es, source)
    es_request(es, "DELETE", f"/{target}?ignore_unavailable=true")
    started = time.perf_counter()
    es_request(es, "PUT", f"/{target}", definition)
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        for response in pool.map(
            lambda body: es_request(es, "POST", "/_bulk", body, timeout=300), bodies
        ):
            if response.get("errors"):
                raise RuntimeError("the ceiling's bulk load had item errors")
    es_request(es, "POST", f"/{target}/_refresh")
    seconds = time.perf_counter() - started
    docs = sum(body.count(b"\n") // 2 for body in bodies)
    return CeilingSample(docs, seconds, sum(len(b) for b in bodies) / 1024 / 1024)


def scan_ceiling(
    es: ElasticsearchEndpoint, index: str, page: int = runtime_defaults.SCAN_PAGE
) -> CeilingSample:
    """Time reading every id and stored hash of ``index`` by scroll, pages as large as the
    runtime's, answers parsed: what an unchanged re-sync asks of the node, with nothing of
    the connector's. A bulk ceiling divided a read by a write: under a CPU hog, one run's
    raw writes ran at 1.6-1.9k docs/s and the next run's at 3.6-4.3k while the re-sync's
    own speed barely moved, and two runs of unchanged code differed by half."""
    started = time.perf_counter()
    docs = size = 0
    found = es_request(
        es,
        "POST",
        f"/{index}/_search?scroll=2m",
        {"size": page, "sort": ["_doc"], "_source": False, "docvalue_fields": [HASH_FIELD]},
        timeout=300,
    )
    scroll_id = found.get("_scroll_id")
    try:
        while hits := found["hits"]["hits"]:
            docs += len(hits)
            size += sum(len(h["_id"]) + 16 for h in hits)
            found = es_request(
                es, "POST", "/_search/scroll", {"scroll": "2m", "scroll_id": scroll_id}, timeout=300
            )
            scroll_id = found.get("_scroll_id")
    finally:
        if scroll_id:
            es_request(es, "DELETE", "/_search/scroll", {"scroll_id": scroll_id})
    seconds = time.perf_counter() - started
    return CeilingSample(docs, seconds, size / 1024 / 1024, kind="scan")
