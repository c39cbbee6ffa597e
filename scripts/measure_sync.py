"""docs/s and peak RSS of a `connectors sync` of N rows, first and unchanged re-sync
(for the record, not a test). Starts (or reuses) the harness's local services.

    python scripts/measure_sync.py --rows 100000
"""

from __future__ import annotations

import argparse
import json
import time

import psycopg

from harness.connectors_cli import create_connector, sync_connector
from harness.services.es_http import ElasticsearchEndpoint, es_request
from harness.services.options import HarnessOptions
from harness.services.provider import start_reusable

TABLE = """
CREATE TABLE bench (id bigint PRIMARY KEY, title text, body text, price numeric(10,2),
                    qty int, active boolean, tags text[], meta jsonb, created timestamptz,
                    updated_at timestamp);
INSERT INTO bench SELECT g, 'title ' || g, repeat(md5(g::text), 4), g % 1000 + 0.99, g % 97,
       g % 2 = 0, ARRAY['t' || (g % 10), 'u' || (g % 7)], jsonb_build_object('k', g, 's', 'v'),
       timestamptz '2024-01-01' + g * interval '1 second',
       timestamp '2024-01-01' + g * interval '1 second'
FROM generate_series(1, %(rows)s) g;
"""


def run_sync(es: ElasticsearchEndpoint, connector_id: str, mode: str) -> tuple[dict, float, int]:
    started = time.perf_counter()
    done = sync_connector(es, connector_id, mode)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"sync failed: {done.stderr}")
    result = json.loads(done.stdout)
    return result, elapsed, int(result["peak_rss_mb"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    options = HarnessOptions.from_env(backend="local", reuse=True)
    es = start_reusable("elasticsearch", options).endpoint
    pg = start_reusable("postgresql", options).endpoint
    schema = f"bench_{args.rows}"
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"SET search_path TO {schema}")
        conn.execute(TABLE.replace("%(rows)s", str(args.rows)))
    index = f"bench-{args.rows}"
    spec = {
        "id": index,
        "service_type": "postgresql",
        "index_name": index,
        "configuration": {
            "host": pg.host,
            "port": pg.port,
            "username": pg.user,
            "password": pg.password.reveal(),
            "database": pg.dbname,
            "schema": schema,
        },
    }
    es_request(es, "DELETE", f"/{index}?ignore_unavailable=true")
    created = create_connector(es, spec)
    if created.returncode != 0:
        raise SystemExit(f"connectors create failed: {created.stderr}")
    for label in ("full sync", "unchanged re-sync"):
        result, elapsed, rss_mb = run_sync(es, index, "full")
        print(
            f"{label:<18} rows={args.rows} indexed={result['indexed']} "
            f"unchanged={result['unchanged']} sync={result['seconds']:.2f}s "
            f"({result['docs_per_second']:.0f} docs/s) process={elapsed:.2f}s peak_rss={rss_mb}MB"
        )


if __name__ == "__main__":
    main()
