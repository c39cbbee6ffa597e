"""The ``mysql`` service kind: a real local MariaDB (unprivileged, loopback only, its own
account and password, the hostile zone, crash-safe), and the container and DSN specs."""

from __future__ import annotations

import os

import pymysql
import pytest

from harness.services.base import Secret, ServiceError
from harness.services.mysql import LocalMySQL, MySQLConfig, MySQLKind, parse_dsn
from harness.services.reaper import process_tree
from tests.harness.helpers import uid_of

services = pytest.mark.services


@pytest.fixture
def mariadb(service_tmpdir):
    service = LocalMySQL.start(MySQLConfig())
    yield service
    service.stop()


def query(service, statement: str):
    with service.endpoint.connect() as conn, conn.cursor() as cur:
        cur.execute(statement)
        return cur.fetchall()


@services
def test_a_local_mariadb_runs_unprivileged_on_loopback_with_its_own_account(mariadb):
    if os.geteuid() == 0:
        assert 0 not in {uid_of(pid) for pid in mariadb.pids()} - {None}
    endpoint = mariadb.endpoint
    assert (endpoint.host, endpoint.user, endpoint.database) == ("127.0.0.1", "harness", "harness")
    assert query(mariadb, "SELECT @@bind_address, @@innodb_flush_log_at_trx_commit") == (
        ("127.0.0.1", 2),
    )
    assert query(mariadb, "SELECT CURRENT_USER()")[0][0] == "harness@127.0.0.1"
    # The hostile zone: -03:30 (or -02:30 in summer), not UTC.
    offset = query(mariadb, "SELECT TIMESTAMPDIFF(MINUTE, UTC_TIMESTAMP(), NOW())")[0][0]
    assert offset in (-210, -150), offset
    assert endpoint.version[0].isdigit() and "***" in endpoint.location()
    with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
        pymysql.connect(
            host=endpoint.host,
            port=endpoint.port,
            user="harness",
            password="wrong",
            connect_timeout=5,
        )


@services
def test_the_harnesss_own_connections_skip_tls_and_its_cost(mariadb):
    """PyMySQL 1.2 tries TLS by default and builds a context for each connection (117 ms
    of CPU); our servers offer none, so the harness does not ask."""
    with mariadb.endpoint.connect() as conn:
        assert conn.ssl is False and getattr(conn, "ctx", None) is None


@services
def test_a_killed_mariadb_keeps_acknowledged_commits_on_restart(mariadb):
    query(mariadb, "CREATE TABLE kept (answer INT)")
    query(mariadb, "INSERT INTO kept VALUES (42)")
    pids = mariadb.pids()
    mariadb.kill()
    assert not [p for p in pids if p in process_tree(p)]
    port = mariadb.endpoint.port
    mariadb.restart()
    assert mariadb.endpoint.port == port
    assert query(mariadb, "SELECT answer FROM kept") == ((42,),)


def test_a_dsn_names_the_server_and_hides_the_password():
    endpoint = parse_dsn(Secret("mysql://app:s%40cret@db.example:3307/shop"))
    assert (endpoint.host, endpoint.port, endpoint.user, endpoint.database) == (
        "db.example",
        3307,
        "app",
        "shop",
    )
    assert endpoint.password.reveal() == "s@cret"
    assert endpoint.redacted_dsn() == "mysql://app:***@db.example:3307/shop"
    with pytest.raises(ServiceError, match=r"is not mysql://user:password@host:port/database"):
        parse_dsn(Secret("postgresql://x@y/z"))


@pytest.mark.parametrize(("image", "prefix"), [("mariadb:11", "MARIADB"), ("mysql:8.4", "MYSQL")])
def test_both_images_get_an_account_a_database_and_the_zone(image, prefix):
    """root, with a generated password: fixtures create a database and a user per test."""
    spec, endpoint_at = MySQLKind().container(MySQLConfig(image=image))
    assert spec.image == image and spec.port == 3306
    assert spec.env[f"{prefix}_DATABASE"] == "harness"
    assert spec.env["TZ"] == "America/St_Johns"
    assert "--innodb-flush-log-at-trx-commit=2" in (spec.command or [])
    endpoint = endpoint_at("127.0.0.1", 49000)
    assert endpoint.user == "root"
    assert endpoint.password.reveal() == spec.env[f"{prefix}_ROOT_PASSWORD"]
    assert "--local-infile=1" in (spec.command or [])  # MySQL 8.4 has it off
    assert endpoint.backend == "docker" and endpoint.version == image.split(":")[1]
    with pytest.raises(ServiceError, match=r"use mariadb:11 or mysql:8\.4"):
        MySQLKind().container(MySQLConfig(image="postgres:16"))
