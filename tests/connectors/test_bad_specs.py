"""Hand-written bad connector specs, each given to ``connectors create`` as a user would:
refused with exit code 2 in one line that names the field, never showing a secret, and
nothing saved. (Generated cases, from each connector's schema, are in the standard
suite: harness/suite/bad_configs.py.)"""

from __future__ import annotations

import json
import math
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.services

SECRET = "Hunter2-planted"
PG = {"host": "127.0.0.1", "port": 5432, "username": "u", "password": SECRET, "database": "d"}
S3 = {
    "buckets": ["b"],
    "access_key_id": "AKIA0000",
    "secret_access_key": SECRET,
    "endpoint_url": "http://127.0.0.1:9000",
}
CONFLUENCE = {"base_url": "https://example.atlassian.net", "username": "u", "api_token": SECRET}

# (what, the spec's changes over a valid one, the field the refusal must name)
CASES: list[tuple[str, dict[str, Any], str]] = [
    ("mysql host holding a DSN", {"service_type": "mysql", "configuration": PG | {
        "host": f"mysql://root:{SECRET}@db.example.com:3306/app"}}, "host"),
    ("postgresql host with credentials", {"configuration": PG | {
        "host": f"root:{SECRET}@db"}}, "host"),
    ("s3 with no bucket", {"service_type": "s3", "configuration": S3 | {"buckets": []}},
     "buckets"),
    ("s3 endpoint with credentials", {"service_type": "s3", "configuration": S3 | {
        "endpoint_url": f"http://k:{SECRET}@127.0.0.1:9000"}}, "endpoint_url"),
    ("confluence with no space", {"service_type": "confluence",
                                  "configuration": CONFLUENCE | {"spaces": []}}, "spaces"),
    ("confluence site with credentials", {"service_type": "confluence", "configuration":
        CONFLUENCE | {"base_url": f"https://u:{SECRET}@example.atlassian.net"}}, "base_url"),
    ("no tables and no queries", {"configuration": PG | {"tables": []}}, "tables"),
    ("a query without its key columns", {"configuration": PG | {
        "queries": [{"name": "q", "query": "SELECT 1 AS id"}]}}, "queries[0].id_columns"),
    ("a query's misspelt key", {"configuration": PG | {"queries": [
        {"name": "q", "query": "SELECT 1 AS id", "id_colums": ["id"]}]}}, "queries[0].id_colums"),
    ("a misspelt top-level key", {"sheduling": {"full": {"enabled": True, "interval": 60}}},
     "sheduling"),
    ("a misspelt schedule key", {"scheduling": {"full": {"enabled": True, "intervall": 60}}},
     "scheduling.full.intervall"),
    ("the state index as content", {"index_name": ".elastic-connectors"}, "index_name"),
    ("a hidden index", {"index_name": ".hidden"}, "index_name"),
    ("an uppercase index", {"index_name": "Products"}, "index_name"),
    ("an id with a slash", {"id": "a/b"}, "id"),
    ("a port of NaN", {"configuration": PG | {"port": math.nan}}, "port"),
    ("a timeout of a day", {"configuration": PG | {"connect_timeout": 86400}}, "connect_timeout"),
    ("an interval of 1e12", {"scheduling": {"full": {"enabled": True, "interval": 1e12}}},
     "scheduling.full.interval"),
    ("an infinite interval", {"scheduling": {"full": {"enabled": True, "interval": math.inf}}},
     "scheduling.full.interval"),
]  # fmt: skip


def _spec(changes: dict[str, Any], index: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"id": index, "service_type": "postgresql", "index_name": index}
    return spec | {"configuration": PG} | changes


def _exists(url: str) -> bool:
    try:
        with urllib.request.urlopen(url) as answer:
            return bool(json.load(answer).get("found", True))
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return False
        raise


@pytest.mark.parametrize(("what", "changes", "field"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_spec_is_refused_in_one_line_naming_the_field(
    es_endpoint: Any, index: str, tmp_path: Path, what: str, changes: dict[str, Any], field: str
) -> None:
    spec = _spec(changes, index)
    if spec["id"] == "a/b":  # an id of this test's own, so no other run's connector is found
        spec["id"] = f"{index}/b"
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec, allow_nan=True))
    env = {**os.environ, "CONNECTORS_ES_URL": es_endpoint.url}
    done = subprocess.run(
        ["connectors", "create", "--config", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    said = done.stdout + done.stderr
    assert done.returncode == 2, f"{what}: exit {done.returncode}: {said!r}"
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in said, said
    assert f"{field}:" in done.stderr, f"{what}: {field!r} not named: {done.stderr!r}"
    assert SECRET not in said, f"{what}: the secret was shown: {said!r}"
    saved = f"{es_endpoint.url}/.elastic-connectors/_doc/{quote(spec['id'], safe='')}"
    assert not _exists(saved), f"{what}: the connector was saved"
