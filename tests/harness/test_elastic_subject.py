"""Subject ``elastic`` without a copy of Elastic's framework (CI has none): the PostgreSQL
shape adapter, written from their code, maps their documents back to ours exactly; the
records their service reads have their shapes; the front answers ``GET /`` as a full
distribution would; and with nothing configured the subject is unavailable, saying how to
give it one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.checks.assertions import compare_index
from harness.checks.index_reader import IndexReader
from harness.faults.disruption import until
from harness.plugin.subject_choice import make_subject
from harness.services.es_http import ElasticsearchEndpoint, es_request
from harness.subjects import SubjectUnavailable
from harness.subjects.elastic import fetch
from harness.subjects.elastic.framework import ENV_VARIABLE, ElasticFramework, FrameworkNotFound
from harness.subjects.elastic.front import es_front, main_info
from harness.subjects.elastic.launch import launch_service
from harness.subjects.elastic.records import (
    configuration_values,
    connector_record,
    job_record,
    service_config,
)
from harness.subjects.elastic.shapes import (
    PostgresShape,
    ShapedIndexReader,
    UnsupportedSource,
    shape_for,
)

OURS = {"host": "127.0.0.1", "port": 5432, "username": "u", "password": "secret",
        "database": "postgres", "schema": "s1", "cursor_column": "updated_at"}  # fmt: skip


def their_document(table: str, row: dict, key: str) -> dict:
    """A document as their PostgreSQL connector and sink write it (v9.5.x)."""
    doc = {f"s1_{table}_{column}".lower(): value for column, value in row.items()}
    return doc | {"_timestamp": "2026-11-30T00:00:00+00:00", "database": "postgres",
                  "schema": "s1", "table": table, "id": key, "_extract_binary_content": False,
                  "_reduce_whitespace": False, "_run_ml_inference": False}  # fmt: skip


def test_ids_follow_their_rule_for_simple_composite_and_escaped_keys():
    shape = PostgresShape()
    assert shape.their_id("items:1", OURS) == "postgres_s1_items_1"
    assert shape.their_id("pairs:1|2", OURS) == "postgres_s1_pairs_1_2"
    assert shape.their_id("odd:a\\|b|c", OURS) == "postgres_s1_odd_a|b_c"


def test_their_configuration_takes_ours_and_lists_every_table():
    theirs = PostgresShape().configuration(OURS | {"fetch_size": 7})
    assert theirs == {
        "host": "127.0.0.1", "port": 5432, "username": "u", "password": "secret",
        "database": "postgres", "schema": "s1", "fetch_size": 7, "tables": "*",
    }  # fmt: skip


def test_a_source_without_an_adapter_is_named():
    with pytest.raises(UnsupportedSource, match="no shape adapter for 'nosuch'"):
        shape_for("nosuch")


@pytest.mark.services
def test_their_index_read_through_the_adapter_equals_ours_and_values_still_differ(
    es_endpoint, run_namespace, request
):
    index = run_namespace.es_name(request.node.name)
    rows = [{"id": 1, "title": "a", "rating": 4.4}, {"id": 2, "title": "b", "rating": 1.5}]
    for row in rows:
        key = f"postgres_s1_items_{row['id']}"
        es_request(es_endpoint, "PUT", f"/{index}/_doc/{key}?refresh=true",
                   their_document("items", row, key))  # fmt: skip
    try:
        reader = ShapedIndexReader(IndexReader(es_endpoint, index), PostgresShape(), OURS)
        expected = [(f"items:{r['id']}", r | {"_table": "items"}) for r in rows]
        assert compare_index(reader, expected).ok
        widened = [expected[0], ("items:2", rows[1] | {"_table": "items", "rating": 1.25})]
        comparison = compare_index(reader, widened)
        assert not comparison.ok and [i for i, _ in comparison.mismatched] == ["items:2"]
        assert not comparison.extra and not comparison.missing
    finally:
        es_request(es_endpoint, "DELETE", f"/{index}")


def test_records_have_their_shapes():
    schema = {"host": {"label": "Host", "type": "str"},
              "fetch_size": {"default_value": 50, "type": "int"}}  # fmt: skip
    configuration = configuration_values(schema, {"host": "db"})
    assert configuration["host"]["value"] == "db" and configuration["fetch_size"]["value"] == 50
    connector = connector_record("c1", "postgresql", "idx", configuration)
    assert connector["pipeline"]["name"] == "_none"  # no ingest pipeline
    assert connector["filtering"][0]["active"]["validation"]["state"] == "valid"
    job = job_record(connector, "full")
    assert job["status"] == "pending" and job["connector"]["id"] == "c1"
    assert set(job["connector"]["filtering"]) == {"advanced_snippet", "rules"}
    config = service_config("http://127.0.0.1:1", None, "c1", "postgresql")
    assert config["elasticsearch"]["feature_use_connectors_api"] is False
    assert "username" not in config["elasticsearch"]
    assert config["connectors"] == [{"connector_id": "c1", "service_type": "postgresql"}]


@pytest.mark.services
def test_the_front_answers_the_root_and_passes_the_rest(es_endpoint):
    def call(method, path):
        return es_request(es_endpoint, method, path)

    with es_front(es_endpoint, main_info(call)) as url:
        root = es_request(url, "GET", "/")
        health = es_request(url, "GET", "/_cluster/health")
    assert (
        root["version"]["number"]
        == es_request(es_endpoint, "GET", "/_nodes/_local")["nodes"].popitem()[1]["version"]
    )
    assert health["cluster_name"] == root["cluster_name"]


def test_a_launched_service_gets_a_private_config_released_when_it_exits(tmp_path: Path):
    """Their service started for a scenario to kill: its config.yml (the source's password
    is in it) is its owner's only, its front is up while it runs, and both are gone once
    it exits, however it exits."""
    service = tmp_path / "elastic-ingest"
    service.write_text(
        '#!/bin/sh\nstat -c %a "$2"\necho "$2"\n'
        "grep -o 'http://127.0.0.1:[0-9]*' \"$2\"\nexec tail -f /dev/null\n"
    )
    service.chmod(0o755)
    endpoint = ElasticsearchEndpoint("http://127.0.0.1:9", "9.5.4", "external")
    connector = {"id": "c1", "service_type": "postgresql"}
    with (tmp_path / "log").open("w+") as log:
        process = launch_service(service, endpoint, {"tagline": "x"}, connector, log, {})
        until(lambda: len(Path(log.name).read_text().split()) == 3, 30, "the service's lines")
        mode, config, front = Path(log.name).read_text().split()
        assert mode == "600"
        assert es_request(front, "GET", "/")["tagline"] == "x"
        process.kill()  # as a crash scenario does
        process.wait(30)
    until(lambda: not Path(config).exists(), 30, "the config.yml to be removed")
    with pytest.raises(OSError):
        es_request(front, "GET", "/", timeout=5)


def test_with_nothing_configured_the_subject_is_unavailable_and_says_how(monkeypatch):
    monkeypatch.delenv(ENV_VARIABLE, raising=False)
    with pytest.raises(SubjectUnavailable, match=ENV_VARIABLE):
        make_subject("elastic", None)  # type: ignore[arg-type]


def test_a_directory_without_their_service_is_named(tmp_path: Path):
    with pytest.raises(FrameworkNotFound, match="no virtualenv with Elastic's framework"):
        ElasticFramework.locate(str(tmp_path))


def test_a_virtualenv_without_their_package_cannot_answer(tmp_path: Path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(sys.executable, bin_dir / "python")
    (bin_dir / "elastic-ingest").write_text("#!/bin/sh\n")
    with pytest.raises(FrameworkNotFound, match="could not answer"):
        ElasticFramework.locate(str(tmp_path))


def test_without_their_framework_every_scenario_skips_before_any_service_starts(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != ENV_VARIABLE}
    env["HARNESS_STATE_FILE"] = str(tmp_path / "services.json")  # nothing recorded, nothing up
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "scenarios/postgres/test_postgresql.py", "-q", "-rs",
         "-p", "no:cacheprovider", "--subject", "elastic", "-k", "test_full_sync"],
        cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 skipped" in done.stdout and ENV_VARIABLE in done.stdout
    assert "search-harness services" not in done.stdout  # none was started


def test_a_directory_that_is_not_their_checkout_is_refused_with_how_to_get_one(tmp_path):
    with pytest.raises(FrameworkNotFound, match="git clone --branch"):
        fetch.from_checkout(tmp_path)


def test_the_comparison_table_puts_subjects_side_by_side():
    from harness.bench.compare_subjects import SubjectFigures, load_scenario, render

    ours = SubjectFigures("cli", "ours", 1000, [900.0, 1100.0], [1.0, 1.2], [80.0], [0, 0],
                          [5000.0])  # fmt: skip
    theirs = SubjectFigures(
        "elastic", "theirs", 1000, [150.0], [6.0], [120.0], [1000], [250.0],
        ["unchanged re-sync: error: boom"], {"run": 30, "passed": 24},
    )  # fmt: skip
    table = render([ours, theirs]).splitlines()
    assert table[0].split()[:3] == ["subject", "docs", "full"]
    assert table[2].split()[:7] == ["cli", "1,000", "1,000", "1.1", "80", "5,000", "0"]
    assert table[3].split() == ["elastic", "1,000", "150", "6.0", "120", "250", "1,000", "24/30"]
    assert "elastic failed: unchanged re-sync: error: boom" in render([theirs])
    assert load_scenario(Path("scenarios/postgres")).connector == "postgresql"


def test_the_report_page_includes_a_saved_comparison(tmp_path):
    from harness.bench.compare_subjects import SubjectFigures, from_json, html_section, to_json

    outcome = {"test_full_sync[postgresql-small]": "failed: 3 missing"}
    figures = SubjectFigures("cli", "ours", 10, [5.0], [1.0], [70.0], [0], outcomes=outcome)
    section = html_section(from_json(to_json([figures])))
    assert "<h2>Subjects compared</h2>" in section and "<td>cli</td>" in section
    assert "<td>test_full_sync[postgresql-small]</td><td>failed: 3 missing</td>" in section


def test_each_scenarios_outcome_is_read_from_junit_with_its_first_line():
    from xml.etree import ElementTree as ET

    from harness.bench.compare_subjects import _outcome

    suite = ET.fromstring(
        '<testsuite><testcase name="a"/>'
        '<testcase name="b"><failure message="OutcomeError: 3 missing&#10;more">x</failure>'
        '</testcase><testcase name="c"><skipped message="needs incremental"/></testcase>'
        '<testcase name="d"><error message="">boom\nline 2</error></testcase></testsuite>'
    )
    assert [_outcome(case) for case in suite.iter("testcase")] == [
        "passed", "failed: OutcomeError: 3 missing", "skipped: needs incremental",
        "failed: boom",
    ]  # fmt: skip
