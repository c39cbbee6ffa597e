"""TLS to Elasticsearch for real: a private CA, a server certificate for 127.0.0.1 and a
client certificate, made with openssl; an HTTPS front (the fault proxy) before the
session's cluster. Both the client and the bulk transport must honour the CA, the
verification switch and the client certificate, and a failure says why and what to set."""

from __future__ import annotations

import asyncio
import os
import ssl
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from connectors.es.bulk_transport import BulkTlsError, BulkUnavailable, HttpBulkTransport
from connectors.es.client import EsSettings, es_client
from harness.faults.proxy import FaultProxy

pytestmark = pytest.mark.services

BODY = b'{"index":{"_index":"harness-tls-probe","_id":"1"}}\n{"ok":true}\n'


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("pki")
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
             "/CN=harness test CA", "-keyout", "ca.key", "-out", "ca.pem", cwd=d)  # fmt: skip
    for name in ("server", "client"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                 "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)  # fmt: skip
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "2", "-extfile", "san.ext",
                 "-out", f"{name}.pem", cwd=d)  # fmt: skip
    return d


def _front(es_endpoint, pki: Path, want_client_cert: bool) -> FaultProxy:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki / "server.pem", pki / "server.key")
    if want_client_cert:
        context.load_verify_locations(pki / "ca.pem")
        context.verify_mode = ssl.CERT_REQUIRED
    parts = urlsplit(es_endpoint.url)
    assert parts.hostname and parts.port
    return FaultProxy(parts.hostname, parts.port, http=True, tls=context)


def _both_paths(settings: EsSettings) -> tuple[str, str]:
    """(cluster health through the client, one _bulk through the bulk transport): each
    "ok" or its error message."""

    async def go() -> tuple[str, str]:
        client, bulk = es_client(settings), HttpBulkTransport(settings)
        try:
            try:
                await client.request("GET", "/_cluster/health")
                through_client = "ok"
            except Exception as exc:
                through_client = str(exc)
            try:
                items = await bulk.send(BODY)
                through_bulk = "ok" if items[0]["index"]["status"] < 300 else str(items)
            except (BulkTlsError, BulkUnavailable) as exc:
                through_bulk = str(exc)
        finally:
            await client.close()
            await bulk.close()
        return through_client, through_bulk

    return asyncio.run(go())


def test_a_private_ca_is_trusted_only_when_given(es_endpoint, pki):
    with _front(es_endpoint, pki, want_client_cert=False) as front:
        url = front.url()
        assert url.startswith("https://")
        unverified = _both_paths(EsSettings(url, retry_deadline=30))
        trusted = _both_paths(EsSettings(url, ca_certs=str(pki / "ca.pem")))
        unchecked = _both_paths(EsSettings(url, verify_certs=False))
    for message in unverified:  # failed at once (not retried for 30 s), saying why and what to set
        assert "CERTIFICATE_VERIFY_FAILED" in message or "certificate verify failed" in message
        assert "CONNECTORS_ES_CA_CERTS" in message and url in message, message
    assert "not retried" in unverified[0]
    assert trusted == ("ok", "ok")
    assert unchecked == ("ok", "ok")


def test_a_client_certificate_is_presented_when_configured(es_endpoint, pki):
    ca = str(pki / "ca.pem")
    with _front(es_endpoint, pki, want_client_cert=True) as front:
        url = front.url()
        # A refused client certificate looks like a dropped connection: retried, briefly here.
        refused = _both_paths(EsSettings(url, ca_certs=ca, retry_deadline=2))
        accepted = _both_paths(
            EsSettings(
                url,
                ca_certs=ca,
                client_cert=str(pki / "client.pem"),
                client_key=str(pki / "client.key"),
            )
        )
    assert accepted == ("ok", "ok")
    assert all(message != "ok" for message in refused), refused


def test_the_cli_takes_its_tls_settings_from_the_environment(es_endpoint, pki):
    with _front(es_endpoint, pki, want_client_cert=False) as front:
        env = dict(os.environ, CONNECTORS_ES_URL=front.url(), CONNECTORS_ES_RETRY_SECONDS="30")
        env.pop("CONNECTORS_ES_CA_CERTS", None)
        failed = subprocess.run(
            ["connectors", "list"], env=env, capture_output=True, text=True, timeout=120
        )
        env["CONNECTORS_ES_CA_CERTS"] = str(pki / "ca.pem")
        listed = subprocess.run(
            ["connectors", "list"], env=env, capture_output=True, text=True, timeout=120
        )
    assert failed.returncode != 0 and "CONNECTORS_ES_CA_CERTS" in failed.stderr, failed.stderr
    assert "Traceback" not in failed.stderr
    assert listed.returncode == 0, listed.stderr
