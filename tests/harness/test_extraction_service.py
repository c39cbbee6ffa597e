"""The ``extraction`` service kind: the Python extractors behind Tika's API as a real local
process. Every sentence of every format comes back over HTTP; a corrupt or encrypted file
is refused with its reason (422), one over the cap before it is read (413); and the
container is Tika's own."""

from __future__ import annotations

import http.client
import json
import statistics
import time
import urllib.error
import urllib.request

import pytest

from fixtures.documents import FORMATS, document, missing_sentences
from harness.services.extraction import ExtractionConfig, ExtractionKind, LocalExtraction

services = pytest.mark.services


@pytest.fixture(scope="module")
def extraction(tmp_path_factory):
    service = LocalExtraction.start(ExtractionConfig(max_bytes=2 * 1024 * 1024))
    yield service.endpoint
    service.stop()


def put(url: str, data: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method="PUT")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@services
def test_every_format_comes_back_whole_over_tikas_api(extraction):
    assert extraction.url.startswith("http://127.0.0.1:")
    before = extraction.stats()
    for fmt in FORMATS:
        doc = document(3, 1, fmt)
        status, body = put(extraction.url + "/tika", doc.data)
        assert status == 200, (fmt, body[:200])
        assert missing_sentences(doc, body.decode()) == [], fmt
    status, body = put(extraction.url + "/rmeta/text", document(3, 1, "docx").data)
    (record,) = json.loads(body)
    assert status == 200 and record["Content-Type"].endswith("wordprocessingml.document")
    assert "X-TIKA:content" in record
    after = extraction.stats()  # the totals a benchmark takes the extraction share from
    assert after["files"] - before["files"] == len(FORMATS) + 1
    assert after["parse_cpu_seconds"] > before["parse_cpu_seconds"]
    sizes = sum(len(document(3, 1, f).data) for f in FORMATS) + len(document(3, 1, "docx").data)
    assert after["bytes"] - before["bytes"] == sizes


@services
def test_small_answers_are_not_held_back_by_nagle(extraction):
    """On one kept-alive connection, as connectors use it: headers and body written apart
    would wait for the client's delayed ACK, 40 ms or more a file."""
    connection = http.client.HTTPConnection(extraction.host, extraction.port, timeout=30)
    times = []
    try:
        for _ in range(21):
            started = time.perf_counter()
            connection.request("PUT", "/tika", body=b"tiny")
            answer = connection.getresponse()
            assert answer.status == 200 and answer.read() == b"tiny"
            times.append(time.perf_counter() - started)
    finally:
        connection.close()
    # With Nagle every answer waits 40 ms at least; the median ignores a loaded moment.
    median = statistics.median(times)
    assert median < 0.025, f"{median * 1000:.0f} ms per tiny file: Nagle's algorithm is on"


@services
def test_unreadable_and_oversized_files_are_refused_with_their_reason(extraction):
    status, body = put(extraction.url + "/tika", b"%PDF-1.7\n" + b"\x00garbage" * 50)
    assert status == 422 and b"the pdf file cannot be read" in body
    status, body = put(extraction.url + "/tika", b"\xd0\xcf\x11\xe0" + b"\x00" * 600)
    assert status == 422 and b"password-protected" in body
    status, body = put(extraction.url + "/tika", b"x" * (2 * 1024 * 1024 + 1))
    assert status == 413 and b"over 2097152" in body


def test_the_container_is_tika_on_its_port():
    spec, endpoint_at = ExtractionKind().container(ExtractionConfig())
    assert spec.image.startswith("apache/tika:") and spec.port == 9998
    assert endpoint_at("127.0.0.1", 49001).url == "http://127.0.0.1:49001"
