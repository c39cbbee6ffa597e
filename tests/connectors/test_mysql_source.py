"""The MySQL source against a real MariaDB: the documented type mapping on an edge-case
table, ids and versions, fetching by id, incremental reads at the cursor's boundary, and
errors that say where (never the password)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from connectors.source import SourceError
from connectors.sources.mysql.source import MySQLDataSource

pytestmark = pytest.mark.services

EDGE_DDL = """
CREATE TABLE edge (
  a INT, b VARCHAR(10),
  flag TINYINT(1), big BIGINT UNSIGNED, dec65 DECIMAL(65,30), f FLOAT, d DOUBLE, bits BIT(5),
  day DATE, span TIME, at DATETIME(6), ts TIMESTAMP NULL, yr YEAR, e ENUM('x','y'),
  s SET('red','green','blue'), j JSON, bin VARBINARY(8), geo GEOMETRY,
  emoji VARCHAR(20) CHARACTER SET utf8mb4, old VARCHAR(20) CHARACTER SET latin1,
  twice INT AS (a * 2) VIRTUAL,
  PRIMARY KEY (a, b)
)"""
EDGE_ROW = """
INSERT INTO edge (a, b, flag, big, dec65, f, d, bits, day, span, at, ts, yr, e, s, j, bin, geo,
                  emoji, old)
VALUES (1, 'x|y', 1, 18446744073709551615, '12345.678901234567890123456789012345',
        1.1, 1.1, b'10101', '0000-00-00', '-838:59:59', '2024-02-29 23:59:59.123456',
        '2024-06-15 12:00:00', 2024, 'y', 'red,blue', '{"k": [1, 2]}', x'00ff10',
        ST_GeomFromText('POINT(1 2)'), 'pizza 🍕', 'café')"""


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def collect(iterator: Any) -> list[Any]:
    return [item async for item in iterator]


def source(endpoint: Any, database: str, **extra: Any) -> MySQLDataSource:
    return MySQLDataSource(
        {
            "host": endpoint.host,
            "port": endpoint.port,
            "username": endpoint.user,
            "password": endpoint.password.reveal(),
            "database": database,
        }
        | extra
    )


def test_the_documented_type_mapping(mysql_endpoint, database):
    name, cur = database
    cur.execute(EDGE_DDL)
    cur.execute(EDGE_ROW)
    (doc,) = run(collect(source(mysql_endpoint, name).get_docs()))
    assert doc.id == "edge:1|x\\|y"
    assert doc.fields == {
        "_table": "edge",
        "a": 1,
        "b": "x|y",
        "flag": True,
        "big": "18446744073709551615",
        "dec65": "12345.678901234567890123456789012345",
        "f": 1.1,
        "d": 1.1,
        "bits": 21,
        "day": None,
        "span": "-838:59:59",
        "at": "2024-02-29T23:59:59.123456",
        "ts": "2024-06-15T15:30:00Z",
        "yr": 2024,
        "e": "y",
        "s": ["red", "blue"],
        "j": {"k": [1, 2]},
        "bin": "AP8Q",
        "geo": "POINT(1 2)",
        "emoji": "pizza 🍕",
        "old": "café",
        "twice": 2,
    }
    assert len(doc.version or "") == 32


def test_versions_match_documents_and_changed_rows_are_fetched_by_id(mysql_endpoint, database):
    name, cur = database
    cur.execute("CREATE TABLE items (id INT PRIMARY KEY, title TEXT)")
    cur.execute("INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three')")
    src = source(mysql_endpoint, name)
    docs = {d.id: d for d in run(collect(src.get_docs()))}
    versions = dict(run(collect(src.get_versions())))
    assert versions == {doc_id: d.version for doc_id, d in docs.items()}
    cur.execute("UPDATE items SET title = 'TWO' WHERE id = 2")
    changed = dict(run(collect(source(mysql_endpoint, name).get_versions())))
    assert [i for i in changed if changed[i] != versions[i]] == ["items:2"]
    fetched = run(collect(src.get_docs_by_ids(["items:2", "items:9", "other:1"])))
    assert [(d.id, d.fields["title"]) for d in fetched] == [("items:2", "TWO")]


def test_incremental_reads_pick_up_rows_committed_later_at_the_cursor(mysql_endpoint, database):
    name, cur = database
    cur.execute("CREATE TABLE items (id INT PRIMARY KEY, at DATETIME(6))")
    cur.execute("INSERT INTO items VALUES (3, '2024-01-01 10:00:00'), (1, '2024-01-01 09:00:00')")

    def read(cursor: Any) -> tuple[list[str], Any]:
        src = source(mysql_endpoint, name, cursor_column="at")
        ops = run(collect(src.get_docs_incrementally(cursor)))
        return [op.doc_id for op in ops], src.next_cursor()

    ids, cursor = read(None)
    assert ids == ["items:1", "items:3"]  # in cursor order, not key order
    cur.execute("INSERT INTO items VALUES (2, '2024-01-01 10:00:00')")  # at the cursor
    ids, cursor = read(cursor)
    assert ids == ["items:2"]
    assert read(cursor)[0] == []


def test_a_table_without_a_key_needs_one_declared(mysql_endpoint, database):
    name, cur = database
    cur.execute("CREATE TABLE loose (code VARCHAR(5), n INT)")
    cur.execute("INSERT INTO loose VALUES ('a', 1)")
    with pytest.raises(SourceError, match=r"has no primary key; declare its key columns"):
        run(collect(source(mysql_endpoint, name).get_docs()))
    declared = source(mysql_endpoint, name, id_columns={"loose": ["code"]})
    assert [d.id for d in run(collect(declared.get_docs()))] == ["loose:a"]


def test_a_wrong_password_names_the_server_and_never_the_password(mysql_endpoint, database):
    name, _ = database
    src = source(mysql_endpoint, name, password="decoy-password-42")
    with pytest.raises(SourceError) as info:
        run(src.ping())
    message = str(info.value)
    assert f"MySQL {mysql_endpoint.host}:{mysql_endpoint.port}/{name}" in message
    assert "Access denied" in message and "decoy-password-42" not in message


def test_custom_queries_map_their_columns_like_tables_and_keep_percent_signs(
    mysql_endpoint, database
):
    name, cur = database
    cur.execute(
        "CREATE TABLE products (id INT PRIMARY KEY, title VARCHAR(40), big BIGINT UNSIGNED, "
        "on_sale TINYINT(1), tags SET('a','b'), price DECIMAL(8,2), at DATETIME(6))"
    )
    cur.execute(
        "INSERT INTO products VALUES (1, '50% off', 18446744073709551615, 1, 'b', 9.50, "
        "'2024-01-01 10:00:00'), (2, 'full price', 7, 0, '', 20, '2024-01-02 10:00:00')"
    )
    query = {
        "name": "deals",
        "query": "SELECT id, title, big, on_sale, tags, price, at FROM products "
        "WHERE title LIKE '%\\% off'",
        "id_columns": ["id"],
    }
    src = source(mysql_endpoint, name, queries=[query], cursor_column="at")
    (doc,) = run(collect(src.get_docs()))
    assert doc.id == "deals:1"
    assert doc.fields == {
        "_table": "deals",
        "id": 1,
        "title": "50% off",
        "big": "18446744073709551615",
        "on_sale": True,
        "tags": ["b"],
        "price": "9.50",
        "at": "2024-01-01T10:00:00.000000",
    }
    assert [d.id for d in run(collect(src.get_docs_by_ids(["deals:1", "deals:2"])))] == ["deals:1"]
    changes = run(collect(src.get_docs_incrementally(None)))
    assert [op.doc_id for op in changes] == ["deals:1"]


def test_a_custom_query_that_fails_is_named_with_the_servers_reason(mysql_endpoint, database):
    name, _ = database
    broken = {"name": "broken", "query": "SELECT id FROM nowhere", "id_columns": ["id"]}
    with pytest.raises(SourceError, match=r"custom query 'broken' cannot be read .*1146"):
        run(source(mysql_endpoint, name, queries=[broken]).validate_config())
    keyless = {"name": "keyless", "query": "SELECT 1 AS one", "id_columns": ["id"]}
    with pytest.raises(SourceError, match=r"key columns \['id'\] are not among"):
        run(source(mysql_endpoint, name, queries=[keyless]).validate_config())


def test_a_slow_reader_holds_a_bounded_part_of_the_result(mysql_endpoint, database):
    """asyncmy buffers whatever the server sends; with connectors.sources.mysql.driver a
    reader slower than the server holds about HIGH_WATER bytes, not the result set."""
    from connectors.sources.mysql import driver

    assert driver.install(), "this asyncmy's protocol could not be flow-controlled"
    HIGH_WATER = driver.HIGH_WATER
    name, cur = database
    cur.execute("CREATE TABLE wide (id INT PRIMARY KEY, filler VARCHAR(1000))")
    rows = [(n, "x" * 1000) for n in range(1, 20001)]  # 20 MB
    cur.executemany("INSERT INTO wide VALUES (%s, %s)", rows)
    src = source(mysql_endpoint, name, fetch_size=1000)

    async def read() -> tuple[int, int]:
        conn = await src._connect()
        rows = held = 0
        try:
            async for batch in src._batches(conn, "wide", "SELECT * FROM wide"):
                rows += len(batch)
                await asyncio.sleep(0.05)  # slower than the server: its bytes pile up
                held = max(held, conn._proto.length - conn._proto.pos)
        finally:
            conn.close()
        return rows, held

    rows, held = run(read())
    assert rows == 20000
    # One read may fill the rest of asyncmy's buffer past the mark: twice HIGH_WATER at
    # most, so four is a wide margin; without flow control 18 MB pile up here.
    assert held <= 4 * HIGH_WATER, f"{held:,} bytes held unread"
