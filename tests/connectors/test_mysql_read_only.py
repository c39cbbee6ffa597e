"""The MySQL connector only reads, whatever a custom query says: a catalogue of
break-outs, each run as a custom query by a privileged user (so that only the
connector's own rules stop it), with an inventory of what the database holds taken
before and after. Each must be refused or read harmlessly; nothing may change."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from connectors.source import SourceError
from connectors.sources.mysql import MySQLDataSource
from tests.connectors.test_mysql_source import database, source  # noqa: F401

pytestmark = pytest.mark.services

OUTFILE = Path("/tmp/connectors-break-out.txt")
# Each closes the probe's subquery (SELECT * FROM (<query>) AS t LIMIT 0) where it needs
# to, runs what it wants, and reopens a subquery for the rest of the probe.
BREAK_OUTS = {
    "drop through a second statement": (
        "SELECT id FROM victim) AS t LIMIT 0; DROP TABLE victim; SELECT * FROM (SELECT 1 AS id"
    ),
    "read write, commit, drop": (
        "SELECT id FROM victim) AS t LIMIT 0; SET SESSION TRANSACTION READ WRITE; COMMIT; "
        "DROP TABLE victim; SELECT * FROM (SELECT 1 AS id"
    ),
    "tx_read_only off, create": (
        "SELECT 1 AS id) AS t LIMIT 0; SET SESSION tx_read_only = 0; "
        "CREATE TABLE pwned (a INT); SELECT * FROM (SELECT 1 AS id"
    ),
    "commit, then insert": (
        "SELECT 1 AS id) AS t LIMIT 0; COMMIT; INSERT INTO victim VALUES (99); "
        "SELECT * FROM (SELECT 1 AS id"
    ),
    "call a writing procedure": (
        "SELECT 1 AS id) AS t LIMIT 0; CALL writer(); SELECT * FROM (SELECT 1 AS id"
    ),
    "into outfile": f"SELECT 1 AS id INTO OUTFILE '{OUTFILE}'",
    "into outfile, broken out": (
        f"SELECT 1 AS id) AS t LIMIT 0; SELECT 1 INTO OUTFILE '{OUTFILE}'; "
        "SELECT * FROM (SELECT 1 AS id"
    ),
    "a function that writes": "SELECT logged() AS id",
    "a locking read": "SELECT id FROM victim FOR UPDATE",
    "a sequence advanced": "SELECT NEXTVAL(counter) AS id",
    "a sequence set": "SELECT SETVAL(counter, 1000) AS id",
    "a user variable then a write": (
        "SELECT @x := 1 AS id) AS t LIMIT 0; UPDATE victim SET id = id + 1; "
        "SELECT * FROM (SELECT 1 AS id"
    ),
    "a write in a comment's shadow": "SELECT 1 AS id /*!; DROP TABLE victim */",
}

SETUP = (
    "CREATE TABLE victim (id INT PRIMARY KEY)",
    "INSERT INTO victim VALUES (1), (2), (3)",
    "CREATE TABLE log (at DATETIME(6))",
    "CREATE SEQUENCE counter",
    "CREATE PROCEDURE writer() INSERT INTO log VALUES (NOW(6))",
    "CREATE FUNCTION logged() RETURNS INT MODIFIES SQL DATA "
    "BEGIN INSERT INTO log VALUES (NOW(6)); RETURN 1; END",
)


def inventory(cur: Any, name: str) -> dict[str, Any]:
    """What the database holds: its tables with their checksums, the sequence's state,
    its routines, and whether the outfile exists."""
    cur.execute(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_schema = %s ORDER BY table_name",
        (name,),
    )
    tables = cur.fetchall()
    sums = {}
    for table, kind in tables:
        if kind == "SEQUENCE":
            cur.execute(f"SELECT next_not_cached_value FROM `{name}`.`{table}`")
        else:
            cur.execute(f"CHECKSUM TABLE `{name}`.`{table}`")
        sums[table] = cur.fetchall()
    cur.execute(
        "SELECT routine_name FROM information_schema.routines WHERE routine_schema = %s "
        "ORDER BY routine_name",
        (name,),
    )
    return {"tables": tables, "sums": sums, "routines": cur.fetchall(), "outfile": OUTFILE.exists()}


async def read(connector: MySQLDataSource) -> list[Any]:
    try:
        await connector.validate_config()
        return [doc async for doc in connector.get_docs()]
    finally:
        await connector.close()


@pytest.mark.parametrize("attempt", sorted(BREAK_OUTS))
def test_a_custom_query_cannot_change_the_database(mysql_endpoint, database, attempt):  # noqa: F811
    name, cur = database
    for statement in SETUP:
        cur.execute(statement)
    before = inventory(cur, name)
    query = {"name": "q", "query": BREAK_OUTS[attempt], "id_columns": ["id"]}
    connector = source(mysql_endpoint, name, tables=[], queries=[query])
    refused = ""
    try:
        asyncio.run(read(connector))
    except SourceError as exc:
        refused = str(exc)
    after = inventory(cur, name)
    OUTFILE.unlink(missing_ok=True)
    assert after == before, f"{attempt!r} changed the database: {before} -> {after}"
    if ";" in BREAK_OUTS[attempt]:  # a second statement is refused, naming the query
        assert "custom query 'q'" in refused, f"{attempt!r} was not refused: {refused!r}"
    assert mysql_endpoint.password.reveal() not in refused
