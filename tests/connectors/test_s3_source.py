"""The S3 source against a real local store (moto's server) and the real extraction
service: every format's sentences in ``body``, keys that break naive encoding, a zero-byte
object, one over the cap, a corrupt and an encrypted file (indexed, with the reason), a
lying Content-Type, pagination, versions without downloads, incremental at the second."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from connectors.source import SourceError
from connectors.sources.s3.source import S3DataSource
from fixtures.documents import FORMATS, document, missing_sentences

pytestmark = pytest.mark.services
ODD_KEYS = ("dir with space/ünï code.txt", "plus+sign.txt", "percent%41.txt", "a%2Fb.txt")


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def collect(iterator: Any) -> list[Any]:
    return [item async for item in iterator]


@pytest.fixture
def bucket(s3_endpoint, request):
    name = f"t-{abs(hash(request.node.name)) % 10**8}"
    client = s3_endpoint.client()
    client.create_bucket(Bucket=name)
    yield name, client
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
        for obj in page.get("Contents", []):
            client.delete_object(Bucket=name, Key=obj["Key"])
    client.delete_bucket(Bucket=name)


def source(s3_endpoint, extraction_endpoint, bucket: str, **extra: Any) -> S3DataSource:
    return S3DataSource(
        {
            "buckets": [bucket],
            "endpoint_url": s3_endpoint.url,
            "region": s3_endpoint.region,
            "access_key_id": s3_endpoint.access_key.reveal(),
            "secret_access_key": s3_endpoint.secret_key.reveal(),
            "extraction_url": extraction_endpoint.url,
        }
        | extra
    )


def test_every_object_is_a_document_with_its_text_or_the_reason_it_has_none(
    s3_endpoint, extraction_endpoint, bucket
):
    name, client = bucket
    docs = {}
    for fmt in FORMATS:
        doc = document(5, 1, fmt)
        docs[doc.key] = doc
        client.put_object(Bucket=name, Key=doc.key, Body=doc.data, ContentType=doc.content_type)
    liar = document(5, 2, "pdf")  # a PDF that says it is text
    client.put_object(Bucket=name, Key="liar.txt", Body=liar.data, ContentType="text/plain")
    for key in ODD_KEYS:
        client.put_object(Bucket=name, Key=key, Body=key.encode())
    client.put_object(Bucket=name, Key="empty.txt", Body=b"")
    client.put_object(Bucket=name, Key="big.txt", Body=b"x" * 300_000)
    client.put_object(Bucket=name, Key="corrupt.pdf", Body=b"%PDF-1.7\n" + b"\x00junk" * 99)
    client.put_object(Bucket=name, Key="locked.docx", Body=b"\xd0\xcf\x11\xe0" + b"\0" * 600)

    src = source(s3_endpoint, extraction_endpoint, name, max_object_bytes=200_000, page_size=3)
    found = {d.id: d for d in run(collect(src.get_docs()))}
    assert len(found) == len(FORMATS) + len(ODD_KEYS) + 5
    for key, doc in docs.items():
        fields = found[f"{name}/{key}"].fields
        assert fields["content_type"] == doc.content_type and fields["size"] == len(doc.data)
        assert missing_sentences(doc, fields["body"]) == [], key
    assert missing_sentences(liar, found[f"{name}/liar.txt"].fields["body"]) == []
    for key in ODD_KEYS:
        assert found[f"{name}/{key}"].fields["body"] == key
        assert found[f"{name}/{key}"].fields["key"] == key
    assert found[f"{name}/empty.txt"].fields["body"] == ""
    big = found[f"{name}/big.txt"].fields
    assert "body" not in big and big["body_skipped"].startswith("300000 bytes, over")
    assert "cannot be read" in found[f"{name}/corrupt.pdf"].fields["extraction_error"]
    assert "password-protected" in found[f"{name}/locked.docx"].fields["extraction_error"]
    versions = dict(run(collect(src.get_versions())))
    assert versions == {doc_id: d.version for doc_id, d in found.items()}


def test_incremental_reads_what_changed_at_or_after_the_cursor(
    s3_endpoint, extraction_endpoint, bucket
):
    name, client = bucket
    for n in range(3):
        client.put_object(Bucket=name, Key=f"k{n}.txt", Body=f"v{n}".encode())

    def read(cursor: Any) -> tuple[list[str], Any]:
        src = source(s3_endpoint, extraction_endpoint, name)
        ops = run(collect(src.get_docs_incrementally(cursor)))
        return sorted(op.doc_id for op in ops), src.next_cursor()

    ids, cursor = read(None)
    assert ids == [f"{name}/k0.txt", f"{name}/k1.txt", f"{name}/k2.txt"]
    assert read(cursor)[0] == []
    client.put_object(Bucket=name, Key="k1.txt", Body=b"changed")  # maybe in the same second
    client.put_object(Bucket=name, Key="k9.txt", Body=b"new")
    ids, cursor = read(cursor)
    assert ids == [f"{name}/k1.txt", f"{name}/k9.txt"]
    assert read(cursor)[0] == []


def test_a_missing_bucket_and_an_unreachable_service_are_named(s3_endpoint, extraction_endpoint):
    src = source(s3_endpoint, extraction_endpoint, "no-such-bucket")
    with pytest.raises(SourceError, match=r"buckets not found at http://127\.0\.0\.1:\d+"):
        run(src.validate_config())
    src = source(s3_endpoint, extraction_endpoint, "x", endpoint_url="http://127.0.0.1:9")
    with pytest.raises(SourceError, match=r"S3 at http://127\.0\.0\.1:9 cannot be reached"):
        run(src.ping())


def test_transient_s3_answers_are_retried_and_a_lasting_one_fails_in_time() -> None:
    """503 SlowDown and 500 InternalError are what AWS says to retry: twice of them, then
    the answer, is a listing; a store that keeps saying so fails at the deadline, naming
    the endpoint and the last answer."""
    from connectors.sources.s3.client import S3Client

    slow = (
        b"HTTP/1.1 503 Slow Down\r\ncontent-type: application/xml\r\ncontent-length: %d\r\n\r\n%s"
    )
    body = b"<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>"
    listing = (
        b'<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<Buckets><Bucket><Name>b1</Name></Bucket></Buckets></ListAllMyBucketsResult>"
    )
    ok = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(listing), listing)

    async def serve(answers: list[bytes], fallback: bytes, retry_seconds: float) -> Any:
        calls = []

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while True:
                try:
                    await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                calls.append(1)
                writer.write(answers.pop(0) if answers else fallback)
                await writer.drain()

        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = S3Client(f"http://127.0.0.1:{port}", "us-east-1", "k", "s", 5, retry_seconds)
        try:
            return await client.list_buckets(), len(calls)
        except SourceError as exc:
            return str(exc), len(calls)
        finally:
            await client.close()
            server.close()

    busy = slow % (len(body), body)
    error500 = b"HTTP/1.1 500 Internal Error\r\ncontent-length: 0\r\n\r\n"
    assert run(serve([busy, error500], ok, 30)) == (["b1"], 3)
    message, calls = run(serve([], busy, 1.0))
    assert "SlowDown" in message and "127.0.0.1" in message and "deadline" in message, message
    assert calls >= 2
