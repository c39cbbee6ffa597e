"""The MySQL connector only reads, whatever a custom query says: the catalogue of
break-outs that the standard suite runs through the subject (capability
``custom_query_safety``, fixtures/mysql_break_outs.py), here against the source itself,
fast and one test per break-out, as a privileged user (so that only the connector's own
rules stop it). Each must be refused or read harmlessly; nothing may change."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from connectors.source import SourceError
from connectors.sources.mysql.source import MySQLDataSource
from fixtures import mysql_break_outs
from tests.connectors.test_mysql_source import source

pytestmark = pytest.mark.services

OUTFILE = Path(tempfile.gettempdir()) / f"connectors-break-out-{os.getpid()}.txt"
BREAK_OUTS = {attempt.name: attempt for attempt in mysql_break_outs.catalogue(OUTFILE)}


async def read(connector: MySQLDataSource) -> list[Any]:
    try:
        await connector.validate_config()
        return [doc async for doc in connector.get_docs()]
    finally:
        await connector.close()


@pytest.mark.parametrize("attempt", sorted(BREAK_OUTS))
def test_a_custom_query_cannot_change_the_database(mysql_endpoint, database, attempt):
    name, cur = database
    for statement in mysql_break_outs.SETUP:
        cur.execute(statement)
    before = mysql_break_outs.inventory(cur, name, OUTFILE)
    query = {"name": "q", "query": BREAK_OUTS[attempt].query, "id_columns": ["id"]}
    connector = source(mysql_endpoint, name, tables=[], queries=[query])
    refused = ""
    try:
        asyncio.run(read(connector))
    except SourceError as exc:
        refused = str(exc)
    after = mysql_break_outs.inventory(cur, name, OUTFILE)
    OUTFILE.unlink(missing_ok=True)
    assert after == before, f"{attempt!r} changed the database: {before} -> {after}"
    if BREAK_OUTS[attempt].refused:  # a second statement is refused, naming the query
        assert "custom query 'q'" in refused, f"{attempt!r} was not refused: {refused!r}"
    assert mysql_endpoint.password.reveal() not in refused
