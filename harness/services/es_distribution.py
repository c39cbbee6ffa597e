"""Resolving an Elasticsearch distribution: explicit path -> cache -> Maven Central.

Maven Central publishes each release's ``integ-test-zip``: a plain distribution without a
bundled JDK and without most modules, which is all a test node needs. It is fetched once
with ``mvn dependency:copy`` (strict checksums, so a corrupt download fails) and unpacked
into a shared cache.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness.services.base import ServiceError
from harness.services.privileges import make_traversable

# The newest 9.x integ-test-zip that Maven Central served (and that ran here) on 2026-11-28.
DEFAULT_ES_VERSION = "9.5.4"
MAVEN_ARTIFACT = "org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip"
MARKER = ".harness-distribution.json"


@dataclass(frozen=True)
class Distribution:
    home: Path
    version: str
    source: str  # "explicit", "cache" or "maven"

    @property
    def modules(self) -> set[str]:
        return {p.name for p in (self.home / "modules").iterdir()}


def cache_root() -> Path:
    """Per-user cache; root's goes to /var/cache because /root is not readable by the
    unprivileged user the node runs as."""
    if os.environ.get("HARNESS_CACHE_DIR"):
        root = Path(os.environ["HARNESS_CACHE_DIR"])
    elif os.geteuid() == 0:
        root = Path("/var/cache/search-harness")
    else:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = Path(xdg) / "search-harness"
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    return root


def version_of(home: Path) -> str:
    for jar in (home / "lib").glob("elasticsearch-*.jar"):
        match = re.fullmatch(r"elasticsearch-(\d+\.\d+\.\d+)\.jar", jar.name)
        if match:
            return match.group(1)
    raise ServiceError(
        f"{home} does not look like an Elasticsearch distribution (no lib/elasticsearch-X.Y.Z.jar)"
    )


def resolve_distribution(version: str, explicit: str | Path | None = None) -> Distribution:
    explicit = explicit or os.environ.get("HARNESS_ES_DISTRIBUTION")
    if explicit:
        return _explicit(Path(explicit))
    target = cache_root() / "elasticsearch" / version
    if (target / MARKER).exists():
        return Distribution(_home_in(target), version, "cache")
    with _locked(target.parent / f".{version}.lock"):
        if (target / MARKER).exists():  # another worker fetched it while we waited
            return Distribution(_home_in(target), version, "cache")
        _fetch_and_unpack(version, target)
    return Distribution(_home_in(target), version, "maven")


def _explicit(path: Path) -> Distribution:
    if path.is_dir():
        home = path if (path / "bin" / "elasticsearch").exists() else _home_in(path)
        return Distribution(home, version_of(home), "explicit")
    if path.is_file() and path.suffix == ".zip":
        digest = _sha256(path)[:16]
        target = cache_root() / "elasticsearch" / f"zip-{digest}"
        with _locked(target.parent / f".zip-{digest}.lock"):
            if not (target / MARKER).exists():
                _unpack(path, target, {"zip": str(path), "sha256": _sha256(path)})
        home = _home_in(target)
        return Distribution(home, version_of(home), "explicit")
    raise ServiceError(f"Elasticsearch distribution {path} is neither a directory nor a .zip file")


def _home_in(directory: Path) -> Path:
    homes = [p for p in directory.iterdir() if (p / "bin" / "elasticsearch").exists()]
    if len(homes) != 1:
        raise ServiceError(f"expected one Elasticsearch home under {directory}, found {len(homes)}")
    return homes[0]


def _fetch_and_unpack(version: str, target: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServiceError(
            "Elasticsearch distribution not cached and Maven (mvn) is not installed to fetch it; "
            "install maven, or pass --es-distribution PATH / HARNESS_ES_DISTRIBUTION"
        )
    artifact = MAVEN_ARTIFACT.format(version=version)
    with tempfile.TemporaryDirectory(dir=target.parent) as download:
        proc = subprocess.run(
            # -C: fail on a checksum mismatch instead of warning.
            [
                mvn,
                "-B",
                "-q",
                "-C",
                "dependency:copy",
                f"-Dartifact={artifact}",
                f"-DoutputDirectory={download}",
            ],
            capture_output=True,
            text=True,
            cwd=download,
            check=False,
        )
        zips = list(Path(download).glob("*.zip"))
        if proc.returncode != 0 or len(zips) != 1:
            output = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
            raise ServiceError(
                f"could not fetch Elasticsearch {version} ({artifact}) from Maven Central "
                f"(mvn exit {proc.returncode}); Maven said:\n" + "\n".join(output)
            )
        _unpack(zips[0], target, {"artifact": artifact, "sha256": _sha256(zips[0])})


def _unpack(archive: Path, target: Path, provenance: dict[str, str]) -> None:
    """Unpack next to ``target`` and rename into place, so a half-unpacked tree is never used."""
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        with zipfile.ZipFile(archive) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise ServiceError(f"{archive} is corrupt (bad entry {bad})")
            for info in zf.infolist():
                zf.extract(info, staging)
                mode = (info.external_attr >> 16) & 0o777
                if mode:
                    os.chmod(staging / info.filename, mode)
        (staging / MARKER).write_text(json.dumps(provenance))
        make_traversable(staging)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
