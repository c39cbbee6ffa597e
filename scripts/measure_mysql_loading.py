"""How fixtures/mysql.py should load the items corpus: multi-row INSERTs (pymysql's
executemany, INSERT_BATCH rows a statement) or LOAD DATA LOCAL INFILE of a TSV written
from the same rows, the fixture's own two ways (``MySQLFixture._insert``). The rows are
generated before the clock starts; each way loads into a fresh database, a few times;
the median rows/s is printed.

    PYTHONPATH=. python scripts/measure_mysql_loading.py --rows 100003 --runs 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from fixtures import items
from fixtures.mysql import ITEMS_COLUMNS, MySQLFixture
from harness.services.mysql import LocalMySQL, MySQLConfig


def measure(service: LocalMySQL, way: str, rows: list[tuple[Any, ...]], run: int) -> float:
    fixture = MySQLFixture(service.endpoint, f"load_{way}_{run}", seed=1)
    try:
        started = time.perf_counter()
        fixture.local_infile = way == "load-data"
        fixture._execute(fixture._ddl(items.TABLE, items.COLUMNS, 1))
        fixture._insert(items.TABLE, [n for n, _ in ITEMS_COLUMNS], iter(rows))
        seconds = time.perf_counter() - started
        loaded = fixture._execute("SELECT 1 FROM items")
        assert loaded == len(rows), f"{way}: {loaded} rows loaded of {len(rows)}"
        return len(rows) / seconds
    finally:
        fixture.drop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_003)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = list(items.ItemsCorpus(1, args.rows).truth.rows())
    service = LocalMySQL.start(MySQLConfig())
    try:
        for way in ("insert", "load-data"):
            speeds = [measure(service, way, rows, run) for run in range(args.runs)]
            print(json.dumps({"way": way, "median_rows_per_s": round(statistics.median(speeds))}))
    finally:
        service.stop()


if __name__ == "__main__":
    main()
