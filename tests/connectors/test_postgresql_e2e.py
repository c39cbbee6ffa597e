"""End to end: rows in a real PostgreSQL, `connectors` CLI as a subprocess, documents in a
real Elasticsearch -- exact counts and content after every kind of change."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import psycopg
import pytest
import yaml

from fixtures.pg_expected import pg_iso
from harness.services.es_http import es_request

pytestmark = pytest.mark.services


@pytest.fixture
def connector(pg_endpoint, es_endpoint, pg_schema, run_namespace, tmp_path, request):
    index = run_namespace.es_name(request.node.name)
    spec = {
        "id": index,
        "service_type": "postgresql",
        "index_name": index,
        "configuration": {
            "host": pg_endpoint.host,
            "port": pg_endpoint.port,
            "username": pg_endpoint.user,
            "password": pg_endpoint.password.reveal(),
            "database": pg_endpoint.dbname,
            "schema": pg_schema,
            "cursor_column": "updated_at",
        },
    }
    path = tmp_path / "connector.yml"
    path.write_text(yaml.safe_dump(spec))
    yield Connector(index, path, es_endpoint, pg_endpoint, pg_schema)
    es_request(es_endpoint, "DELETE", f"/{index}?ignore_unavailable=true")


class Connector:
    def __init__(self, index, path, es, pg, schema) -> None:
        self.index, self.path, self.es, self.pg, self.schema = index, path, es, pg, schema

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, CONNECTORS_ES_URL=self.es.url)
        return subprocess.run(
            ["connectors", *args], capture_output=True, text=True, env=env, timeout=300, check=False
        )

    def create(self) -> None:
        done = self.cli("create", "--config", str(self.path))
        assert done.returncode == 0, done.stderr

    def sync(self, *extra: str) -> dict:
        done = self.cli("sync", self.index, *extra)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def sql(self, statement: str, params=None) -> None:
        with psycopg.connect(self.pg.dsn(), autocommit=True) as conn:
            conn.execute(f"SET search_path TO {self.schema}")
            conn.execute(statement, params)

    def docs(self) -> dict[str, dict]:
        found = es_request(self.es, "GET", f"/{self.index}/_search?size=10000")
        assert found["hits"]["total"]["value"] <= 10000
        return {h["_id"]: h["_source"] for h in found["hits"]["hits"]}

    def rows(self) -> dict[str, dict]:
        with psycopg.connect(self.pg.dsn()) as conn:
            cur = conn.execute(f"SELECT id, title, price, updated_at FROM {self.schema}.items")
            return {
                f"items:{r[0]}": {
                    "id": r[0],
                    "title": r[1],
                    "price": float(r[2]),
                    "updated_at": pg_iso(r[3]),  # no trailing zeros, as PostgreSQL writes
                }
                for r in cur
            }


def assert_matches(connector: Connector) -> None:
    expected = connector.rows()
    actual = connector.docs()
    assert sorted(actual) == sorted(expected), "ids differ"
    for doc_id, row in expected.items():
        doc = {k: v for k, v in actual[doc_id].items() if not k.startswith("_")}
        assert doc == row, f"{doc_id}: {doc} != {row}"
        assert actual[doc_id]["_table"] == "items"


ITEMS = """CREATE TABLE items (id int PRIMARY KEY, title text, price numeric(10,2),
           updated_at timestamp NOT NULL);
           INSERT INTO items SELECT g, 'item ' || g, g * 1.25,
                  timestamp '2024-01-01' + g * interval '1 minute' FROM generate_series(1, 500) g"""


def test_full_sync_then_no_op_then_changes(connector):
    connector.sql(ITEMS)
    connector.create()
    first = connector.sync()
    assert (first["indexed"], first["deleted"], first["status"]) == (500, 0, "completed")
    assert_matches(connector)

    again = connector.sync()
    assert (again["indexed"], again["unchanged"], again["deleted"]) == (0, 500, 0)

    connector.sql("DELETE FROM items WHERE id <= 20")
    connector.sql("UPDATE items SET title = 'changed ✓' WHERE id BETWEEN 100 AND 109")
    connector.sql(
        "INSERT INTO items VALUES (1000, 'new', 9.99, now()), (1001, 'שלום 🚀', 0, now())"
    )
    changed = connector.sync()
    assert (changed["indexed"], changed["deleted"], changed["unchanged"]) == (12, 20, 470)
    assert_matches(connector)


def test_incremental_sync_picks_up_exactly_the_changes(connector):
    connector.sql(ITEMS)
    connector.create()
    assert connector.sync("--incremental")["indexed"] == 500
    assert connector.sync("--incremental")["indexed"] == 0  # nothing changed since
    connector.sql(
        "UPDATE items SET title = 'edited', updated_at = timestamp '2030-01-01' "
        "WHERE id IN (7, 8, 9)"
    )
    connector.sql("INSERT INTO items VALUES (777, 'fresh', 1, timestamp '2030-01-02')")
    result = connector.sync("--incremental")
    assert (result["seen"], result["indexed"]) == (4, 4)
    assert_matches(connector)
    jobs = connector.cli("jobs", connector.index).stdout.splitlines()
    assert len(jobs) == 3 and all("\tcompleted\t" in line for line in jobs)


def test_a_table_without_primary_key_fails_clearly(connector):
    connector.sql("CREATE TABLE logs (line text)")
    connector.create()
    done = connector.cli("sync", connector.index)
    assert done.returncode == 1
    assert "has no primary key; declare its key columns in id_columns" in done.stderr
    assert done.stderr.count("\n") == 1, "one line of reason"


def test_a_wrong_password_fails_without_showing_it(connector, tmp_path):
    spec = yaml.safe_load(connector.path.read_text())
    spec["configuration"]["password"] = "Wr0ng-Secret-Value"
    connector.path.write_text(yaml.safe_dump(spec))
    connector.create()
    done = connector.cli("sync", connector.index)
    assert done.returncode == 1
    assert "cannot connect to PostgreSQL" in done.stderr
    assert "password authentication failed" in done.stderr
    assert "Wr0ng-Secret-Value" not in done.stderr + done.stdout
    listing = connector.cli("jobs", connector.index).stdout
    assert "Wr0ng-Secret-Value" not in listing


def test_an_invalid_configuration_is_refused_with_every_problem(connector, tmp_path):
    spec = yaml.safe_load(connector.path.read_text())
    spec["configuration"]["port"] = 99999
    spec["configuration"]["fetch_size"] = "lots"
    del spec["configuration"]["database"]
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump(spec))
    done = connector.cli("create", "--config", str(bad))
    assert done.returncode == 2
    for problem in (
        "port: 99999 is above the maximum",
        "fetch_size: expected int",
        "database: required",
    ):
        assert problem in done.stderr


def test_the_documented_type_mapping(connector):
    connector.sql("""
        CREATE TYPE mood AS ENUM ('sad', 'happy');
        CREATE TABLE types (
          id bigint PRIMARY KEY, n numeric(12,3), r real, d double precision, b boolean,
          ts timestamp, tstz timestamptz, dt date, tm time, iv interval, u uuid, j jsonb,
          arr int[], by bytea, ip inet, net cidr, e mood, m money, pt point, bits bit(4),
          updated_at timestamp DEFAULT now());
        INSERT INTO types VALUES (1, 12345.678, 1.5, -2.25, true, '2024-02-29 12:34:56.789',
          '2024-02-29 12:34:56+02', '2024-02-29', '23:59:58', '1 day 2 hours',
          'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2], "b": {"c": null}}', '{1,2,3}',
          '\\x00ff', '192.168.0.1', '10.0.0.0/8', 'happy', '1234.56', '(1,2)', B'1010');
        INSERT INTO types (id) VALUES (2);""")
    connector.create()
    assert connector.sync()["indexed"] == 2
    docs = connector.docs()
    doc = {k: v for k, v in docs["types:1"].items() if k not in ("updated_at", "_content_hash")}
    assert doc == {
        "id": 1,
        "n": 12345.678,
        "r": 1.5,
        "d": -2.25,
        "b": True,
        "ts": "2024-02-29T12:34:56.789",
        "tstz": "2024-02-29T10:34:56+00:00",
        "dt": "2024-02-29",
        "tm": "23:59:58",
        "iv": 93600.0,
        "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "j": {"a": [1, 2], "b": {"c": None}},
        "arr": [1, 2, 3],
        "by": "AP8=",
        "ip": "192.168.0.1",
        "net": "10.0.0.0/8",
        "e": "happy",
        "m": 1234.56,
        "pt": "(1,2)",
        "bits": "1010",
        "_table": "types",
    }
    nulls = docs["types:2"]
    assert all(nulls[k] is None for k in ("n", "ts", "j", "arr", "by", "m"))


def test_cli_without_elasticsearch_url_says_so(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CONNECTORS_ES_URL"}
    done = subprocess.run(
        ["connectors", "list"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=Path(tmp_path),
    )
    assert done.returncode == 1
    assert "no Elasticsearch URL" in done.stderr


def test_composite_keys_and_custom_queries_resync_only_what_changed(connector):
    connector.sql("""CREATE TABLE pairs (a text, b int, v text, updated_at timestamp DEFAULT now(),
                                         PRIMARY KEY (a, b));
                     INSERT INTO pairs (a, b, v) SELECT 'k|' || (g % 7), g, 'v' || g
                     FROM generate_series(1, 300) g""")
    connector.create()
    assert connector.sync()["indexed"] == 300
    connector.sql("UPDATE pairs SET v = 'changed' WHERE b IN (5, 6)")
    connector.sql("DELETE FROM pairs WHERE b = 7")
    result = connector.sync()
    assert (result["indexed"], result["deleted"], result["unchanged"]) == (2, 1, 297)
    docs = connector.docs()
    assert docs["pairs:k\\|5|5"]["v"] == "changed"
    assert len(docs) == 299

    spec = yaml.safe_load(connector.path.read_text())
    spec["configuration"]["queries"] = [
        {"name": "odd", "id_columns": ["b"], "query": "SELECT b, v FROM pairs WHERE b % 2 = 1"}
    ]
    connector.path.write_text(yaml.safe_dump(spec))
    connector.create()
    result = connector.cli("sync", connector.index, "--allow-mass-delete")
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout)
    assert (counts["indexed"], counts["deleted"]) == (149, 299)
    connector.sql("UPDATE pairs SET v = 'again' WHERE b = 9")
    again = connector.sync()
    assert (again["indexed"], again["unchanged"]) == (1, 148)
    assert connector.docs()["odd:9"] == {
        "b": 9,
        "v": "again",
        "_table": "odd",
        "_content_hash": connector.docs()["odd:9"]["_content_hash"],
    }


def test_sync_with_a_config_saves_then_syncs_in_one_command(connector, tmp_path):
    """`sync --config`: stdout is the one result line, the save goes to stderr; a refused
    configuration is refused as `create` refuses it, before any job."""
    connector.sql(ITEMS)
    done = connector.cli("sync", "--config", str(connector.path))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["indexed"] == 500
    assert f"connector {connector.index} (postgresql -> {connector.index}) saved" in done.stderr
    assert_matches(connector)
    assert connector.sync()["unchanged"] == 500  # saved: a plain sync finds it
    other = connector.cli("sync", "--config", str(connector.path), "someone-else")
    assert other.returncode == 1 and "not 'someone-else'" in other.stderr
    spec = yaml.safe_load(connector.path.read_text())
    del spec["configuration"]["database"]
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump(spec))
    refused = connector.cli("sync", "--config", str(bad))
    assert refused.returncode == 2 and "database: required" in refused.stderr
    assert refused.stdout == ""
    jobs = connector.cli("jobs", connector.index).stdout
    assert len([line for line in jobs.splitlines() if "completed" in line]) == 2, jobs
    assert connector.cli("sync").returncode == 1
