import datetime as dt

import pytest

from connectors.config import ConfigError, ConfigField, ConfigSchema
from connectors.documents import HASH_FIELD, DocumentError, SourceDocument, prepare
from connectors.registry import UnknownSourceError, load_source
from connectors.schedule import next_run, parse_cron
from connectors.sources.postgresql.source import PostgreSQLDataSource

SCHEMA = ConfigSchema(
    (
        ConfigField("host", default="localhost"),
        ConfigField("port", "int", default=5432, min_value=1, max_value=65535),
        ConfigField("password", sensitive=True, pattern=r"\S+"),
        ConfigField("mode", choices=("a", "b"), default="a"),
    )
)


def test_defaults_and_coercion():
    config = SCHEMA.parse({"password": "pw", "port": "6543"})
    assert config["host"] == "localhost"
    assert config["port"] == 6543


def test_every_problem_is_reported_and_secrets_are_masked():
    with pytest.raises(ConfigError) as info:
        SCHEMA.parse({"port": 0, "mode": "c", "password": "has space", "extra": 1})
    text = str(info.value)
    assert "port: 0 is below the minimum 1" in text
    assert "mode: 'c' is not one of ['a', 'b']" in text
    assert "password: *** does not match" in text
    assert "extra: unknown field" in text
    assert "has space" not in text


def test_required_fields_and_redaction():
    with pytest.raises(ConfigError, match=r"password: required"):
        SCHEMA.parse({})
    config = SCHEMA.parse({"password": "s3cret"})
    assert "s3cret" not in repr(config)
    assert config.redacted()["password"] == "***"


def test_sources_load_by_entry_point_name():
    assert load_source("postgresql") is PostgreSQLDataSource
    with pytest.raises(UnknownSourceError, match=r"installed sources: .*postgresql"):
        load_source("nope")


def test_prepared_documents_carry_a_content_hash():
    a = prepare(SourceDocument(1, {"t": "x"}))
    b = prepare(SourceDocument("1", {"t": "x"}))
    c = prepare(SourceDocument("1", {"t": "y"}))
    assert a.doc_id == "1" and a.content_hash == b.content_hash != c.content_hash
    assert a.body.endswith(f'"{HASH_FIELD}":"{a.content_hash:016x}"}}'.encode())
    assert (
        prepare(SourceDocument("2")).body
        == f'{{"{HASH_FIELD}":"{prepare(SourceDocument("2")).content_hash:016x}"}}'.encode()
    )
    with pytest.raises(DocumentError, match="has no id"):
        prepare(SourceDocument("", {"t": 1}))


def test_interval_and_cron_schedules():
    start = dt.datetime(2026, 11, 28, 10, 7, 30, tzinfo=dt.UTC)
    assert next_run(60, start) == start + dt.timedelta(minutes=1)
    assert next_run("*/15 * * * *", start) == start.replace(minute=15, second=0)
    assert next_run("0 3 * * *", start) == dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC)
    # 2026-11-29 is a Sunday (cron day 0).
    assert next_run("30 9 * * 0", start) == dt.datetime(2026, 11, 29, 9, 30, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="needs 5 fields"):
        parse_cron("* * *")
    with pytest.raises(ValueError, match="outside 0-59"):
        parse_cron("61 * * * *")


@pytest.mark.parametrize(
    "values", [["1"], ["a|b", "c\\d"], ["", "|"], ["x:y", "2024-01-01 00:00:00"]]
)
def test_ids_round_trip_whatever_the_key_values(values):
    from connectors.ids import decode_id, encode_id

    doc_id = encode_id("t", values)
    assert decode_id(doc_id) == ("t", values)


def test_a_misspelt_field_gets_the_nearest_name_and_others_the_known_ones():
    from connectors.config import ConfigError, ConfigField, ConfigSchema

    schema = ConfigSchema((ConfigField("database"), ConfigField("port", "int")))
    with pytest.raises(ConfigError) as info:
        schema.parse({"databse": "x", "port": "p", "zzz": 1})
    assert info.value.problems == [
        "databse: unknown field; did you mean 'database'?",
        "zzz: unknown field; known fields: database, port",
        "database: required",
        "port: expected int, got str 'p'",
    ]


def test_every_job_type_can_be_scheduled_and_an_unknown_one_is_named():
    from connectors.es.state import JobType
    from connectors.schedule import JOB_TYPES, schedule_problems

    assert set(JOB_TYPES) == {t.value for t in JobType}
    every = {t: {"enabled": True, "interval": "0 0 * * *"} for t in JOB_TYPES}
    assert schedule_problems(every) == []
    problems = schedule_problems({"nightly": {"enabled": True, "interval": "0 0 * * *"}})
    assert problems == ["scheduling.nightly: unknown job type (full, incremental, access_control)"]
