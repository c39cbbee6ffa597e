"""AWS Signature Version 4 for S3 requests: the few lines the S3 source needs, instead of
botocore's import (a second of start-up) for one function. The source only reads: every
request has an empty body, whose SHA-256 is the payload hash.
tests/connectors/test_s3_signing.py checks every signature against botocore's."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from urllib.parse import quote

EMPTY_BODY = hashlib.sha256(b"").hexdigest()


def encode_path(bucket: str, key: str = "") -> str:
    """The request path, each character outside RFC 3986's unreserved set percent-encoded
    once (``/`` kept between key segments): S3 signs the path as it is sent."""
    path = "/" + quote(bucket, safe="")
    if key:
        path += "/" + quote(key, safe="/-_.~")
    return path


def canonical_query(params: dict[str, str]) -> str:
    """Also the query as sent: a server may check the signature against the raw query."""
    pairs = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in params.items())
    return "&".join(f"{k}={v}" for k, v in pairs)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sign(
    method: str,
    host: str,
    path: str,
    params: dict[str, str],
    *,
    region: str,
    access_key: str,
    secret_key: str,
    now: dt.datetime | None = None,
) -> dict[str, str]:
    """The headers that sign the request (``path`` already encoded: ``encode_path``)."""
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    amz_date, day = moment.strftime("%Y%m%dT%H%M%SZ"), moment.strftime("%Y%m%d")
    headers = {"host": host, "x-amz-content-sha256": EMPTY_BODY, "x-amz-date": amz_date}
    signed = ";".join(sorted(headers))
    canonical = "\n".join(
        [
            method,
            path,
            canonical_query(params),
            "".join(f"{name}:{headers[name]}\n" for name in sorted(headers)),
            signed,
            EMPTY_BODY,
        ]
    )
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(
        _hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), day), region), "s3"), "aws4_request"
    )
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "x-amz-content-sha256": EMPTY_BODY,
        "x-amz-date": amz_date,
        "Authorization": f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}",
    }
