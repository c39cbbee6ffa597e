"""Our SigV4 signatures equal botocore's for the requests the S3 source makes: listing
with a continuation token and a unicode prefix, and getting keys with spaces, unicode,
``+``, ``%`` and ``~``."""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from connectors.sources.s3.signing import encode_path, sign

NOW = dt.datetime(2026, 11, 30, 12, 34, 56, tzinfo=dt.UTC)
HOST = "127.0.0.1:9000"


def botocore_signature(method: str, path: str, query: str, monkeypatch) -> str:
    import botocore.auth

    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))
    url = f"http://{HOST}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url)
    auth = S3SigV4Auth(Credentials("AKIAEXAMPLE", "wJalrXUtnFEMI/K7MDENG"), "s3", "eu-west-3")
    auth.add_auth(request)
    return str(request.headers["Authorization"])


@pytest.mark.parametrize(
    ("method", "bucket", "key", "params"),
    [
        ("GET", "docs", "", {"list-type": "2", "prefix": "ünï code/+%", "max-keys": "1000"}),
        ("GET", "docs", "", {"list-type": "2", "continuation-token": "1/ab+c=="}),
        ("GET", "docs", "dir with space/ünï+code%.txt", {}),
        ("HEAD", "docs", "a~b/c(d)&e=f.pdf", {}),
    ],
)
def test_signatures_equal_botocores(method, bucket, key, params, monkeypatch):
    from urllib.parse import quote, urlencode

    path = encode_path(bucket, key)
    ours = sign(method, HOST, path, params, region="eu-west-3", access_key="AKIAEXAMPLE",
                secret_key="wJalrXUtnFEMI/K7MDENG", now=NOW)  # fmt: skip
    query = urlencode(params, quote_via=quote)
    assert ours["Authorization"] == botocore_signature(method, path, query, monkeypatch)
