import stat
import zipfile
from pathlib import Path

import pytest

from harness.services import es_distribution
from harness.services.base import ServiceError
from harness.services.es_distribution import resolve_distribution, version_of


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("HARNESS_ES_DISTRIBUTION", raising=False)


def fake_zip(path: Path, version: str = "9.9.9") -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        script = zipfile.ZipInfo(f"elasticsearch-{version}/bin/elasticsearch")
        script.external_attr = (stat.S_IFREG | 0o755) << 16
        zf.writestr(script, "#!/bin/sh\n")
        zf.writestr(f"elasticsearch-{version}/lib/elasticsearch-{version}.jar", "jar")
        zf.writestr(f"elasticsearch-{version}/modules/x-pack-security/x.jar", "jar")
        zf.writestr(f"elasticsearch-{version}/config/elasticsearch.yml", "")
    return path


def test_explicit_zip_is_unpacked_with_executable_bits(tmp_path):
    dist = resolve_distribution("ignored", fake_zip(tmp_path / "es.zip"))
    assert dist.version == "9.9.9"
    assert dist.source == "explicit"
    assert (dist.home / "bin" / "elasticsearch").stat().st_mode & 0o111
    assert dist.modules == {"x-pack-security"}
    # A second resolution reuses the unpacked tree.
    assert resolve_distribution("ignored", tmp_path / "es.zip").home == dist.home


def test_explicit_directory_is_used_in_place(tmp_path):
    with zipfile.ZipFile(fake_zip(tmp_path / "es.zip")) as zf:
        zf.extractall(tmp_path / "unpacked")
    dist = resolve_distribution("ignored", tmp_path / "unpacked")
    assert dist.home == tmp_path / "unpacked" / "elasticsearch-9.9.9"


def test_a_corrupt_zip_is_refused(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 definitely not a zip")
    with pytest.raises((ServiceError, zipfile.BadZipFile)):
        resolve_distribution("ignored", bad)


def test_a_non_distribution_directory_is_refused(tmp_path):
    (tmp_path / "x" / "lib").mkdir(parents=True)
    (tmp_path / "x" / "bin").mkdir()
    (tmp_path / "x" / "bin" / "elasticsearch").write_text("")
    with pytest.raises(ServiceError, match="does not look like an Elasticsearch distribution"):
        version_of(tmp_path / "x")


def test_missing_maven_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(es_distribution.shutil, "which", lambda _name: None)
    with pytest.raises(ServiceError, match=r"Maven \(mvn\) is not installed"):
        resolve_distribution("9.0.0")


def test_a_version_maven_central_does_not_serve_fails_with_mavens_words():
    with pytest.raises(ServiceError, match=r"could not fetch Elasticsearch 0\.0\.1"):
        resolve_distribution("0.0.1")
