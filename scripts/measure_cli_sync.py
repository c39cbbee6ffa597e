"""Median wall time of `connectors sync` on an empty table, and of `connectors --help`
(for the record, not a test): what a scenario pays per sync before any row moves.

HARNESS_PG_DSN=postgresql://... python scripts/measure_cli_sync.py --es-url URL --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import psycopg


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--es-url", required=True)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    dsn = os.environ["HARNESS_PG_DSN"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS startup_probe CASCADE")
        conn.execute("CREATE SCHEMA startup_probe")
        conn.execute("CREATE TABLE startup_probe.empty (id int PRIMARY KEY, body text)")
        info = conn.info
        spec = {
            "id": "startup-probe", "service_type": "postgresql", "index_name": "startup-probe",
            "configuration": {"host": info.host, "port": info.port, "username": info.user,
                              "password": info.password, "database": info.dbname,
                              "schema": "startup_probe"},
        }  # fmt: skip
    env = dict(os.environ, CONNECTORS_ES_URL=args.es_url)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as config:
        json.dump(spec, config)
        config.flush()
        subprocess.run(["connectors", "create", "--config", config.name], env=env, check=True)
    sync = ["connectors", "sync", "startup-probe"]
    timed(sync, env)  # warm-up: the index exists from now on
    figures = {
        "connectors --help": [timed(["connectors", "--help"], env) for _ in range(args.runs)],
        "connectors sync (empty table)": [timed(sync, env) for _ in range(args.runs)],
    }
    for name, values in figures.items():
        shown = ", ".join(f"{v:.3f}" for v in values)
        print(f"{name:<32} median {statistics.median(values):.3f} s  ({shown})")


if __name__ == "__main__":
    main()
