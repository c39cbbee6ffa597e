"""A Maven mirror on the local disk (``file://``) that serves Elasticsearch's zip and no
checksum files, as some registries and corporate proxies do, for tests that need no
network: everything else the mirror serves is the machine's own ~/.m2 repository."""

from __future__ import annotations

import shutil
from pathlib import Path

M2 = Path.home() / ".m2" / "repository"
ES_DIR = ("org", "elasticsearch", "distribution", "integ-test-zip", "elasticsearch")


def cached_zip(version: str) -> Path | None:
    path = M2.joinpath(*ES_DIR, version, f"elasticsearch-{version}.zip")
    return path if path.exists() else None


def _overlay(source: Path, target: Path, hidden: tuple[str, ...]) -> None:
    """Symlink every entry of ``source`` into ``target`` except the path ``hidden``, whose
    parents become real directories (so other files can be put beside it)."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if hidden and entry.name == hidden[0]:
            _overlay(entry, target / entry.name, hidden[1:])
        else:
            (target / entry.name).symlink_to(entry)


def build_mirror(
    root: Path, artifacts: dict[str, Path], sha1: dict[str, str] | None = None
) -> Path:
    """A mirror serving ``artifacts`` ({version: zip}) without checksums (unless ``sha1``
    gives one for a version), plus a settings.xml that routes all of Maven through it
    into a fresh local repository. Returns the settings file."""
    mirror = root / "mirror"
    _overlay(M2, mirror, ES_DIR)
    es = mirror.joinpath(*ES_DIR)
    for name in list(es.iterdir()):  # the machine's own ES artifacts are not served
        if name.is_symlink():
            name.unlink()
    for version, archive in artifacts.items():
        (es / version).mkdir(parents=True)
        shutil.copyfile(archive, es / version / f"elasticsearch-{version}.zip")
        if sha1 and version in sha1:
            (es / version / f"elasticsearch-{version}.zip.sha1").write_text(sha1[version])
    settings = root / "settings.xml"
    settings.write_text(f"""<settings>
  <localRepository>{root / "local-repo"}</localRepository>
  <mirrors>
    <mirror><id>simulated</id><mirrorOf>*</mirrorOf><url>file://{mirror}</url></mirror>
  </mirrors>
</settings>
""")
    return settings
