"""The ``s3`` service kind: moto's server as a real local process (loopback only, a free
port, stopped with the session), checking signatures against the keys it issued, and the
container and external specs."""

from __future__ import annotations

from dataclasses import replace

import pytest
from botocore.exceptions import ClientError

from harness.services.base import Secret, ServiceError
from harness.services.reaper import process_tree
from harness.services.s3 import LocalS3, S3Config, S3Kind

services = pytest.mark.services


@pytest.fixture
def moto(service_tmpdir):
    service = LocalS3.start(S3Config())
    yield service
    service.stop()


@services
def test_a_local_store_round_trips_objects_on_loopback_and_stops_with_its_tree(moto):
    endpoint = moto.endpoint
    assert endpoint.url.startswith("http://127.0.0.1:") and endpoint.backend == "local"
    assert endpoint.access_key.reveal().startswith("AKIA")
    client = endpoint.client()
    client.create_bucket(Bucket="round-trip")
    key = "dir with space/ünï+code%.txt"
    client.put_object(Bucket="round-trip", Key=key, Body=b"hello", ContentType="text/plain")
    listed = client.list_objects_v2(Bucket="round-trip")["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == [(key, 5)]
    assert client.get_object(Bucket="round-trip", Key=key)["Body"].read() == b"hello"
    assert endpoint.checks_signatures
    forged = replace(endpoint, secret_key=Secret("not-the-secret")).client()
    with pytest.raises(ClientError, match="SignatureDoesNotMatch"):
        forged.list_objects_v2(Bucket="round-trip")
    pids = moto.pids()
    moto.stop()
    assert not process_tree(pids[0]) if pids else True


def test_the_container_is_motos_image_on_its_port():
    spec, endpoint_at = S3Kind().container(S3Config())
    assert spec.image.startswith("motoserver/moto:") and spec.port == 5000
    endpoint = endpoint_at("127.0.0.1", 49000)
    assert endpoint.url == "http://127.0.0.1:49000" and endpoint.backend == "docker"
    assert endpoint.region == "us-east-1"
    assert not endpoint.checks_signatures  # moto's image takes any keys


def test_an_external_store_needs_keys_and_must_answer_signed():
    with pytest.raises(ServiceError, match="needs keys: set HARNESS_S3_ACCESS_KEY"):
        S3Kind().attach(S3Config(endpoint="http://127.0.0.1:9"))
    config = S3Config(
        endpoint="http://127.0.0.1:9", access_key=Secret("AKIAX"), secret_key=Secret("s3cr3t-v4l")
    )
    with pytest.raises(ServiceError) as info:
        S3Kind().attach(config)
    assert "does not answer a signed ListBuckets" in str(info.value)
    assert "s3cr3t-v4l" not in str(info.value)
