"""Which MySQL driver streams rows fastest here: each candidate reads the same table through
an unbuffered (server-side) cursor, in a fresh process, a few times; the median rows/s is
printed. A local MariaDB comes from the harness (the mysql service kind).

    python scripts/measure_mysql_drivers.py --rows 200000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from harness.services.mysql import LocalMySQL, MySQLConfig

DRIVERS = ("pymysql", "mysqlclient", "asyncmy", "aiomysql")

READER = r"""
import asyncio, json, sys, time
driver, host, port, user, password, database = sys.argv[1:7]
query = "SELECT id, sku, title, body, price, quantity, updated_at FROM bench"

def sync_read(module, cursor_class):
    conn = module.connect(host=host, port=int(port), user=user, password=password,
                          database=database, charset="utf8mb4")
    started = time.perf_counter(); rows = 0
    with conn.cursor(cursor_class) as cur:
        cur.execute(query)
        while batch := cur.fetchmany(2000):
            rows += len(batch)
    return rows, time.perf_counter() - started

async def async_read(connect, cursor_class):
    conn = await connect(host=host, port=int(port), user=user, password=password,
                         db=database, charset="utf8mb4")
    started = time.perf_counter(); rows = 0
    async with conn.cursor(cursor_class) as cur:
        await cur.execute(query)
        while batch := await cur.fetchmany(2000):
            rows += len(batch)
    conn.close()
    return rows, time.perf_counter() - started

if driver == "pymysql":
    import pymysql, pymysql.cursors
    result = sync_read(pymysql, pymysql.cursors.SSCursor)
elif driver == "mysqlclient":
    import MySQLdb, MySQLdb.cursors
    result = sync_read(MySQLdb, MySQLdb.cursors.SSCursor)
elif driver == "asyncmy":
    import asyncmy, asyncmy.cursors
    result = asyncio.run(async_read(asyncmy.connect, asyncmy.cursors.SSCursor))
else:
    import aiomysql
    result = asyncio.run(async_read(aiomysql.connect, aiomysql.SSCursor))
print(json.dumps({"rows": result[0], "seconds": result[1]}))
"""


def load(service: LocalMySQL, rows: int) -> None:
    with service.endpoint.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE bench (id BIGINT PRIMARY KEY, sku VARCHAR(32), title VARCHAR(200), "
            "body TEXT, price DECIMAL(12,2), quantity INT, updated_at DATETIME(6))"
        )
        try:  # MySQL's name, then MariaDB's
            cur.execute("SET SESSION cte_max_recursion_depth = 10000000")
        except Exception:
            cur.execute("SET SESSION max_recursive_iterations = 10000000")
        cur.execute(
            "INSERT INTO bench WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            f"WHERE i < {rows}) SELECT i, CONCAT('SKU-', i), REPEAT('title ', 8), "
            "REPEAT('body text ', 40), i / 100, i % 10000, NOW(6) FROM n"
        )


def measure(service: LocalMySQL, driver: str, runs: int) -> dict[str, object]:
    e = service.endpoint
    args = [driver, e.host, str(e.port), e.user, e.password.reveal(), e.database]
    speeds = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", READER, *args], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["failed"])[-1]
            return {"driver": driver, "error": reason}
        result = json.loads(done.stdout)
        speeds.append(result["rows"] / result["seconds"])
    return {"driver": driver, "median_rows_per_s": round(statistics.median(speeds))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    service = LocalMySQL.start(MySQLConfig())
    try:
        started = time.perf_counter()
        load(service, args.rows)
        print(f"loaded {args.rows} rows in {time.perf_counter() - started:.1f}s", flush=True)
        for driver in DRIVERS:
            print(json.dumps(measure(service, driver, args.runs)), flush=True)
    finally:
        service.stop()


if __name__ == "__main__":
    main()
