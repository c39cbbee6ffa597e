"""PostgreSQL values -> JSON that Elasticsearch accepts, produced by the server itself.

Each row is serialised by PostgreSQL (``row_to_json``) in a session set to UTC: the
runtime never parses or re-serialises row values, which keeps its CPU cost per document
small. A few types are rewritten first so that Elasticsearch gets a usable value.

| PostgreSQL | JSON |
|---|---|
| smallint, integer, bigint | number |
| real, double precision, numeric | number, digits as PostgreSQL prints them (shortest exact); |
|   | NaN and ±Infinity become the strings "NaN", "Infinity", "-Infinity" (ES rejects them |
|   | for a numeric field: reported as a failed item, never dropped) |
| money | number (cast to numeric) |
| boolean | true / false |
| text, varchar, char, citext, enum, xml, tsvector, uuid | string |
| timestamp without time zone | "YYYY-MM-DDTHH:MM:SS[.ffffff]" (fraction without trailing zeros) |
| timestamp with time zone | the same in UTC with "+00:00" |
| date / time / time with time zone | "YYYY-MM-DD" / "HH:MM:SS[.ffffff]" / "HH:MM:SS+HH[:MM]" |
| interval | number of seconds (``extract(epoch ...)``) |
| json, jsonb | the value itself, embedded |
| arrays | arrays of the element mapping |
| bytea | base64 string (ES ``binary``) |
| inet, cidr, macaddr | string ("10.0.0.1", "10.0.0.0/8") |
| point, line, lseg, box, path, polygon, circle | their PostgreSQL text form, e.g. "(1,2)" |
| bit, bit varying | string of 0 and 1 |
| ranges | their PostgreSQL text form, e.g. "[1,5)" |
"""

from __future__ import annotations

from psycopg import sql

BYTEA, MONEY, INTERVAL = 17, 790, 1186

# Session settings every reading connection gets, so the JSON does not depend on the
# server's or the user's defaults.
SESSION_SETTINGS = (
    # The connector only reads: every transaction of its sessions is read-only, so not even
    # a custom query (or a function it calls) can write.
    "SET default_transaction_read_only TO on",
    "SET TimeZone TO 'UTC'",
    "SET extra_float_digits TO 3",  # shortest exact on PostgreSQL 12+, 17 digits before
)


def column_expression(column: str, type_oid: int) -> sql.Composable:
    """The select-list expression for one column of the document."""
    ref = sql.SQL("t.{}").format(sql.Identifier(column))
    if type_oid == BYTEA:
        # encode() wraps base64 every 76 characters.
        return sql.SQL("replace(encode({}, 'base64'), E'\\n', '')").format(ref)
    if type_oid == MONEY:
        return sql.SQL("{}::numeric").format(ref)
    if type_oid == INTERVAL:
        return sql.SQL("extract(epoch FROM {})").format(ref)
    return ref
