"""Resolving an Elasticsearch distribution: explicit path -> cache -> Maven Central.

Maven Central publishes each release's ``integ-test-zip``: a plain distribution without a
bundled JDK and without most modules, which is all a test node needs. It is fetched once
with ``mvn dependency:copy`` and unpacked into a shared cache.

Integrity does not depend on the mirror: a version whose SHA-256 the project pins
(``harness/data/es-digests.json``) is checked against the pin, whether or not the
registry serves checksum files; any other version needs the registry's checksum (Maven's
strict mode), or the user's explicit trust.
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

from harness import defaults
from harness.atomic import write_atomic
from harness.environment import HarnessEnvironment
from harness.services.base import ServiceError
from harness.services.privileges import make_traversable

MAVEN_ARTIFACT = "org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip"
MARKER = ".harness-distribution.json"
PINS = Path(__file__).resolve().parent.parent / "data" / "es-digests.json"
CHOSEN_VERSION_FILE = "default-es-version"  # in the cache: a fallback bootstrap chose
TRUST_HINT = "--es-trust-unverified (or HARNESS_ES_TRUST_UNVERIFIED=1)"


class IntegrityError(ServiceError):
    """A download could not be verified, or did not match its pin; nothing was cached."""


def pinned_digest(version: str) -> str | None:
    pins: dict[str, str] = json.loads(PINS.read_text())
    return pins.get(version)


def default_version() -> str:
    """The project default, unless bootstrap had to choose another version on this
    machine (no JDK for it): then that choice, so no command needs an export."""
    chosen = cache_root() / CHOSEN_VERSION_FILE
    try:
        return chosen.read_text().strip() or defaults.ES_VERSION
    except OSError:
        return defaults.ES_VERSION


def choose_default_version(version: str | None) -> None:
    """Persist (or, with None, forget) this machine's default version."""
    chosen = cache_root() / CHOSEN_VERSION_FILE
    if version is None:
        chosen.unlink(missing_ok=True)
    else:
        write_atomic(chosen, version + "\n")


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
    environment = HarnessEnvironment.current()
    if environment.cache_dir:
        root = environment.cache_dir
    elif os.geteuid() == 0:
        root = Path("/var/cache/search-harness")
    else:
        root = (environment.xdg_cache_home or Path.home() / ".cache") / "search-harness"
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


def resolve_distribution(
    version: str | None = None, explicit: str | Path | None = None, trust_unverified: bool = False
) -> Distribution:
    version = version or default_version()
    if explicit:
        return _explicit(Path(explicit))
    target = cache_root() / "elasticsearch" / version
    if (target / MARKER).exists():
        return Distribution(_home_in(target), version, "cache")
    with _locked(target.parent / f".{version}.lock"):
        if (target / MARKER).exists():  # another worker fetched it while we waited
            return Distribution(_home_in(target), version, "cache")
        _fetch_and_unpack(version, target, trust_unverified)
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


def _mvn_copy(artifact: str, download: str, strict: bool) -> subprocess.CompletedProcess[str]:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServiceError(
            "Elasticsearch distribution not cached and Maven (mvn) is not installed to fetch it; "
            "install maven, or pass --es-distribution PATH / HARNESS_ES_DISTRIBUTION"
        )
    argv = [mvn, "-B", "-q", "-U", "-C" if strict else "-c"]
    maven_settings = HarnessEnvironment.current().maven_settings
    if maven_settings:  # a mirror, a proxy, a local repository
        argv += ["-s", maven_settings]
    argv += ["dependency:copy", f"-Dartifact={artifact}", f"-DoutputDirectory={download}"]
    return subprocess.run(argv, capture_output=True, text=True, cwd=download, check=False)


def _maven_said(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if "[ERROR]" in line]
    return "\n".join(lines[:6]) or (proc.stdout + proc.stderr).strip()[-1500:]


def _fetch_and_unpack(version: str, target: Path, trust_unverified: bool) -> None:
    artifact = MAVEN_ARTIFACT.format(version=version)
    pin = pinned_digest(version)
    with tempfile.TemporaryDirectory(dir=target.parent) as download:
        # Pinned: the pin is the check, so Maven need not find checksum files (-c).
        # Not pinned: the registry's checksum is the check (-C), unless the user trusts it.
        proc = _mvn_copy(artifact, download, strict=pin is None)
        verified_by = f"pinned sha256 {pin}" if pin else "the registry's checksum"
        said = proc.stdout + proc.stderr
        if proc.returncode != 0 and pin is None and "no checksums available" in said:
            if not trust_unverified:
                raise IntegrityError(
                    f"Elasticsearch {version}: the registry serves no checksum for {artifact} "
                    "and the project pins no digest for this version, so the download cannot "
                    f"be verified. Use a pinned version ({', '.join(_pinned_versions())}), add "
                    f"its SHA-256 to {PINS}, or accept it unverified with {TRUST_HINT}"
                )
            proc = _mvn_copy(artifact, download, strict=False)
            verified_by = "nothing: accepted unverified on the user's request"
        zips = list(Path(download).glob("*.zip"))
        if proc.returncode != 0 or len(zips) != 1:
            raise ServiceError(
                f"could not fetch Elasticsearch {version} ({artifact}) from Maven Central "
                f"(mvn exit {proc.returncode}); Maven said:\n{_maven_said(proc)}"
            )
        digest = _sha256(zips[0])
        if pin is not None and digest != pin:
            raise IntegrityError(
                f"Elasticsearch {version}: the downloaded {zips[0].name} has sha256 {digest}, "
                f"but the project pins {pin}. The file was refused and nothing was cached; "
                "check the mirror or proxy in between (HARNESS_MAVEN_SETTINGS, ~/.m2)"
            )
        provenance = {"artifact": artifact, "sha256": digest, "verified_by": verified_by}
        _unpack(zips[0], target, provenance)


def _pinned_versions() -> list[str]:
    return [v for v in json.loads(PINS.read_text()) if not v.startswith("_")]


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
