"""MySQL with ``tables: ["*"]``: a table that vanished from the listing because its
SELECT was revoked fails the sync by name and deletes nothing; a table that was dropped
has its documents deleted; a listed table without the privilege says so."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from connectors.source import SourceError
from connectors.sources.mysql.source import MySQLDataSource
from connectors.sync import full_sync
from tests.connectors.es_sync import ids_in, sync
from tests.connectors.test_mysql_source import run

pytestmark = pytest.mark.services

TABLES = {"big": 6, "small": 2}  # small stays under the mass-delete guard


@pytest.fixture
def reader(mysql_endpoint: Any, database: Any) -> Iterator[tuple[str, str]]:
    """A user with one grant per table, as a database with per-table grants has."""
    name, cur = database
    for table, rows in TABLES.items():
        cur.execute(f"CREATE TABLE {table} (id INT PRIMARY KEY, v VARCHAR(8))")
        cur.executemany(f"INSERT INTO {table} VALUES (%s, 'x')", [(i,) for i in range(rows)])
    user = "lt_" + hashlib.sha1(name.encode()).hexdigest()[:24]
    password = secrets.token_urlsafe(12)
    cur.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (user, password))
    for table in TABLES:
        cur.execute(f"GRANT SELECT ON {name}.{table} TO %s@'%%'", (user,))
    yield user, password
    cur.execute("DROP USER %s@'%%'", (user,))


def as_reader(endpoint: Any, name: str, user: tuple[str, str], **extra: Any) -> MySQLDataSource:
    config = {"host": endpoint.host, "port": endpoint.port, "database": name}
    return MySQLDataSource(config | {"username": user[0], "password": user[1]} | extra)


def sync_as(endpoint: Any, name: str, user: tuple[str, str], es_endpoint: Any, index: str) -> Any:
    return sync(es_endpoint, lambda c: full_sync(as_reader(endpoint, name, user), c, index))


def every_id() -> set[str]:
    return {f"{t}:{i}" for t, rows in TABLES.items() for i in range(rows)}


def test_a_revoked_table_fails_the_sync_and_deletes_nothing(
    mysql_endpoint,
    es_endpoint,
    index,
    database,
    reader,
):
    name, cur = database
    first = sync_as(mysql_endpoint, name, reader, es_endpoint, index)
    assert first.ok and ids_in(es_endpoint, index) == every_id()
    cur.execute(f"REVOKE SELECT ON {name}.small FROM %s@'%%'", (reader[0],))
    result = sync_as(mysql_endpoint, name, reader, es_endpoint, index)
    assert (result.ok, result.deleted) == (False, 0)
    assert f"table {name}.small" in (result.error or "") and "SELECT" in (result.error or "")
    assert reader[1] not in (result.error or "")
    assert ids_in(es_endpoint, index) == every_id()
    cur.execute(f"GRANT SELECT ON {name}.small TO %s@'%%'", (reader[0],))
    again = sync_as(mysql_endpoint, name, reader, es_endpoint, index)
    assert (again.ok, again.deleted) == (True, 0)


def test_a_dropped_table_has_its_documents_deleted(
    mysql_endpoint,
    es_endpoint,
    index,
    database,
    reader,
):
    name, cur = database
    sync_as(mysql_endpoint, name, reader, es_endpoint, index)
    cur.execute("DROP TABLE small")  # its grant stays: the server says it does not exist
    result = sync_as(mysql_endpoint, name, reader, es_endpoint, index)
    assert (result.ok, result.deleted) == (True, TABLES["small"])
    assert ids_in(es_endpoint, index) == {i for i in every_id() if i.startswith("big:")}


def test_a_named_table_without_the_privilege_says_so(mysql_endpoint, database, reader):
    name, cur = database
    cur.execute(f"REVOKE SELECT ON {name}.small FROM %s@'%%'", (reader[0],))
    source = as_reader(mysql_endpoint, name, reader, tables=["big", "small"])
    with pytest.raises(SourceError) as refused:
        run(source.validate_config())
    assert "['small']" in str(refused.value) and "lacks the SELECT privilege" in str(refused.value)
