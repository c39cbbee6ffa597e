"""Median cold-start and warm-attach times of the local services (for the record, not a test).

python scripts/measure_startup.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable

from harness.services.elasticsearch import ElasticsearchConfig, LocalElasticsearch
from harness.services.options import HarnessOptions
from harness.services.postgres import LocalPostgres, PostgresConfig
from harness.services.provider import shutdown_recorded, start_reusable


def timed(action: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--es-version", default=None)
    args = parser.parse_args()
    os.environ["HARNESS_STATE_FILE"] = os.path.join(tempfile.mkdtemp(), "services.json")
    es_settings = ElasticsearchConfig(**({"version": args.es_version} if args.es_version else {}))
    results: dict[str, list[float]] = {
        "elasticsearch cold start": [],
        "postgresql cold start": [],
        "warm attach (both, reuse)": [],
    }
    for _ in range(args.runs):
        seconds, es = timed(lambda: LocalElasticsearch.start(es_settings))
        results["elasticsearch cold start"].append(seconds)
        es.stop()  # type: ignore[attr-defined]
        seconds, pg = timed(lambda: LocalPostgres.start(PostgresConfig()))
        results["postgresql cold start"].append(seconds)
        pg.stop()  # type: ignore[attr-defined]
    options = HarnessOptions.from_env(
        backend="local", reuse=True, harness_elasticsearch_version=es_settings.version
    )
    for name in ("elasticsearch", "postgresql"):
        start_reusable(name, options)
    for _ in range(args.runs):
        seconds, _ = timed(
            lambda: [start_reusable(n, options) for n in ("elasticsearch", "postgresql")]
        )
        results["warm attach (both, reuse)"].append(seconds)
    shutdown_recorded()
    for label, values in results.items():
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(f"{label:<28} median {statistics.median(values):6.2f}s   runs: {runs}")


if __name__ == "__main__":
    main()
