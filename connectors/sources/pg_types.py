"""PostgreSQL values -> JSON that Elasticsearch accepts. The documented mapping:

| PostgreSQL | JSON |
|---|---|
| smallint, integer, bigint | number (integer) |
| real, double precision | number; NaN/Infinity as the strings "NaN"/"Infinity"/"-Infinity" |
| numeric | number (a double: exact to ~15 digits); NaN/Infinity as strings, which ES |
|   | rejects for a numeric field: reported as a failed item, never dropped |
| money | number (currency symbol and separators removed) |
| boolean | true/false |
| text, varchar, char, citext, enum, xml, tsvector | string |
| timestamp without time zone | "YYYY-MM-DDTHH:MM:SS[.ffffff]" (no offset) |
| timestamp with time zone | the same instant in UTC, "...+00:00" |
| date / time / time with time zone | "YYYY-MM-DD" / "HH:MM:SS[.ffffff]" / with "+HH:MM" |
| interval | number of seconds (months count as 30 days, as psycopg does) |
| uuid | string |
| json, jsonb | the parsed value (object, array, ...) |
| arrays | arrays of the converted elements |
| bytea | base64 string (ES `binary`) |
| inet, cidr, macaddr | string ("10.0.0.1", "10.0.0.0/8") |
| point, line, lseg, box, path, polygon, circle | their PostgreSQL text form, e.g. "(1,2)" |
| bit, bit varying | string of 0 and 1 |
| ranges | {"lower": ..., "upper": ..., "bounds": "[)"} or null when empty |
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import ipaddress
import math
import re
import uuid
from collections.abc import Callable
from typing import Any

from psycopg.types.range import Range

_MONEY_JUNK = re.compile(r"[^0-9.\-]")


def _number(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def to_json(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return "NaN" if value.is_nan() else ("Infinity" if value > 0 else "-Infinity")
        return float(value)  # one JSON type per column, so the dynamic mapping stays stable
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(
        value,
        (
            uuid.UUID,
            ipaddress.IPv4Address,
            ipaddress.IPv6Address,
            ipaddress.IPv4Network,
            ipaddress.IPv6Network,
            ipaddress.IPv4Interface,
            ipaddress.IPv6Interface,
        ),
    ):
        return str(value)
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, Range):
        if value.isempty:
            return None
        return {
            "lower": to_json(value.lower),
            "upper": to_json(value.upper),
            "bounds": value.bounds,
        }
    return str(value)


# Types whose Python values are already JSON: no per-value work at all. bool, name, int8,
# int2, int4, text, oid, json, bpchar, varchar, jsonb and the arrays of those.
_AS_IS = {
    16,
    19,
    20,
    21,
    23,
    25,
    26,
    114,
    1042,
    1043,
    3802,
    1000,
    1003,
    1005,
    1007,
    1009,
    1014,
    1015,
    1016,
    199,
    3807,
}
_TIMESTAMP_TZ = 1184
_NAIVE_TEMPORAL = {1082, 1083, 1114}  # date, time, timestamp
_FLOATS = {700, 701}
_NUMERIC = 1700
_MONEY = 790


def _temporal(value: Any) -> Any:
    return None if value is None else value.isoformat()


def _timestamptz(value: Any) -> Any:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def _float(value: Any) -> Any:
    return None if value is None else _number(value)


def _numeric(value: Any) -> Any:
    if value is None:
        return None
    if value.is_finite():
        return float(value)
    return to_json(value)


def converter_for(type_oid: int) -> Callable[[Any], Any] | None:
    """The converter for a column, chosen once per query; None where values pass as is."""
    if type_oid in _AS_IS:
        return None
    if type_oid in _NAIVE_TEMPORAL:
        return _temporal
    if type_oid == _TIMESTAMP_TZ:
        return _timestamptz
    if type_oid in _FLOATS:
        return _float
    if type_oid == _MONEY:
        return money_to_json
    if type_oid == _NUMERIC:
        return _numeric
    return to_json


def money_to_json(text: str | None) -> float | None:
    """money arrives as locale-formatted text ("$1,234.56", "-$3.00")."""
    if text is None:
        return None
    return float(_MONEY_JUNK.sub("", text))
