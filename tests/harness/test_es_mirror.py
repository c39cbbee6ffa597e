"""Fetching Elasticsearch through a mirror that serves no checksum files: integrity rests
on the digests pinned in the repository, never on what the mirror happens to serve."""

import hashlib
import json

import pytest

from harness import defaults
from harness.services import es_distribution
from harness.services.es_distribution import IntegrityError, pinned_digest, resolve_distribution
from tests.harness.maven_mirror import build_mirror, cached_zip
from tests.harness.test_es_distribution import fake_zip

PINNED = defaults.ES_VERSION


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def real_zip():
    path = cached_zip(PINNED)
    if path is None:
        pytest.skip(f"Elasticsearch {PINNED} is not in ~/.m2 (bootstrap puts it there)")
    return path


def test_a_pinned_version_is_fetched_without_checksum_files(tmp_path, fresh_cache, monkeypatch):
    settings = build_mirror(tmp_path, {PINNED: real_zip()})
    monkeypatch.setenv("HARNESS_MAVEN_SETTINGS", str(settings))
    dist = resolve_distribution(PINNED)
    assert dist.source == "maven"
    assert dist.version == PINNED
    provenance = json.loads((dist.home.parent / es_distribution.MARKER).read_text())
    assert provenance["sha256"] == pinned_digest(PINNED)
    assert provenance["verified_by"].startswith("pinned sha256")


def test_a_tampered_zip_is_refused_and_nothing_is_cached(tmp_path, fresh_cache, monkeypatch):
    tampered = tmp_path / "tampered.zip"
    data = bytearray(real_zip().read_bytes())
    data[len(data) // 2] ^= 0xFF
    tampered.write_bytes(bytes(data))
    monkeypatch.setenv("HARNESS_MAVEN_SETTINGS", str(build_mirror(tmp_path, {PINNED: tampered})))
    with pytest.raises(IntegrityError, match="but the project pins") as caught:
        resolve_distribution(PINNED)
    assert hashlib.sha256(bytes(data)).hexdigest() in str(caught.value)
    assert not (fresh_cache / "elasticsearch" / PINNED).exists()


def test_an_unpinned_version_without_checksums_needs_explicit_trust(
    tmp_path, fresh_cache, monkeypatch
):
    archive = fake_zip(tmp_path / "es.zip", "0.0.1")
    monkeypatch.setenv("HARNESS_MAVEN_SETTINGS", str(build_mirror(tmp_path, {"0.0.1": archive})))
    with pytest.raises(IntegrityError, match="--es-trust-unverified"):
        resolve_distribution("0.0.1")
    assert not (fresh_cache / "elasticsearch" / "0.0.1").exists()
    dist = resolve_distribution("0.0.1", trust_unverified=True)
    provenance = json.loads((dist.home.parent / es_distribution.MARKER).read_text())
    assert "unverified" in provenance["verified_by"]


def test_an_unpinned_version_with_the_registrys_checksum_is_accepted(
    tmp_path, fresh_cache, monkeypatch
):
    archive = fake_zip(tmp_path / "es.zip", "0.0.2")
    sha1 = hashlib.sha1(archive.read_bytes()).hexdigest()
    settings = build_mirror(tmp_path, {"0.0.2": archive}, sha1={"0.0.2": sha1})
    monkeypatch.setenv("HARNESS_MAVEN_SETTINGS", str(settings))
    dist = resolve_distribution("0.0.2")
    provenance = json.loads((dist.home.parent / es_distribution.MARKER).read_text())
    assert provenance["verified_by"] == "the registry's checksum"


def test_a_persisted_fallback_is_the_default_until_forgotten(fresh_cache):
    assert es_distribution.default_version() == defaults.ES_VERSION
    es_distribution.choose_default_version("8.19.21")
    assert es_distribution.default_version() == "8.19.21"
    es_distribution.choose_default_version(None)
    assert es_distribution.default_version() == defaults.ES_VERSION
