"""`connectors` starts light: the command imports no module it does not need, and a sync
that finds nothing imports no numpy (issue: an empty-table sync within 0.4 s; the time is
measured by scripts/measure_cli_sync.py, not asserted: this machine's load is not ours)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest

HEAVY = ("numpy", "yaml", "elasticsearch", "elastic_transport", "requests", "pandas", "aiohttp")
PROBE = (
    "import json, sys\n"
    "from connectors.cli import main\n"
    "sys.argv = ['connectors', *sys.argv[1:]]\n"
    "code = main() if len(sys.argv) > 1 else 0\n"
    "heavy = sorted({m.split('.')[0] for m in sys.modules} & set(json.loads(HEAVY)))\n"
    "print(json.dumps({'code': code, 'heavy': heavy}), file=sys.stderr)\n"
)


def probe(*args: str, env: dict[str, str] | None = None) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.replace("HEAVY", repr(json.dumps(HEAVY))), *args],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_the_command_imports_nothing_heavy():
    assert probe()["heavy"] == []


@pytest.mark.services
def test_an_empty_table_syncs_without_numpy(es_endpoint, pg_endpoint, run_namespace, tmp_path):
    schema = run_namespace.pg_name("startup")
    with psycopg.connect(pg_endpoint.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"CREATE TABLE {schema}.empty (id int PRIMARY KEY, body text)")
    index = run_namespace.es_name("startup")
    source = {"host": pg_endpoint.host, "port": pg_endpoint.port, "schema": schema,
              "username": pg_endpoint.user, "password": pg_endpoint.password.reveal(),
              "database": pg_endpoint.dbname}  # fmt: skip
    spec = {"id": index, "service_type": "postgresql", "index_name": index, "configuration": source}
    config = tmp_path / "c.json"
    config.write_text(json.dumps(spec))
    env = dict(os.environ, CONNECTORS_ES_URL=es_endpoint.url)
    try:
        assert probe("create", "--config", str(config), env=env) == {"code": 0, "heavy": []}
        synced = probe("sync", index, env=env)
        assert synced == {"code": 0, "heavy": []}, synced
    finally:
        with psycopg.connect(pg_endpoint.dsn(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
