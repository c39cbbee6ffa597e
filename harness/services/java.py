"""Finding a JDK that a given Elasticsearch version can run on.

The integ-test-zip distribution bundles no JDK. Elasticsearch 8.x needs Java >= 17,
9.x needs Java >= 21.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from harness.services.base import ServiceError

JVM_DIR = Path("/usr/lib/jvm")


class NoSuitableJdk(ServiceError):
    """No JDK here can run the requested Elasticsearch version."""


@dataclass(frozen=True)
class Jdk:
    home: Path
    major: int


def required_java(es_version: str) -> int:
    major = int(es_version.split(".", 1)[0])
    return 21 if major >= 9 else 17


def jdk_major(home: Path) -> int | None:
    """The JDK's major version, from its ``release`` file; None if it is no JDK."""
    try:
        text = (home / "release").read_text()
    except OSError:
        return None
    if not (home / "bin" / "java").exists():
        return None
    match = re.search(r'^JAVA_VERSION="(\d+)(?:\.(\d+))?', text, re.MULTILINE)
    if not match:
        return None
    first = int(match.group(1))
    return int(match.group(2)) if first == 1 and match.group(2) else first


def find_jdk(
    es_version: str, environ: dict[str, str] | None = None, jvm_dir: Path = JVM_DIR
) -> Jdk:
    """ES_JAVA_HOME, then JAVA_HOME, then the newest fitting JDK under /usr/lib/jvm."""
    env = os.environ if environ is None else environ
    need = required_java(es_version)
    explicit = env.get("ES_JAVA_HOME")
    if explicit:
        major = jdk_major(Path(explicit))
        if major is None or major < need:
            raise NoSuitableJdk(
                f"ES_JAVA_HOME={explicit} is {'no JDK' if major is None else f'Java {major}'}; "
                f"Elasticsearch {es_version} needs Java >= {need}"
            )
        return Jdk(Path(explicit), major)
    candidates: list[Path] = []
    if env.get("JAVA_HOME"):
        candidates.append(Path(env["JAVA_HOME"]))
    if jvm_dir.is_dir():
        candidates += sorted(p for p in jvm_dir.iterdir() if p.is_dir() and not p.is_symlink())
    found = [(jdk_major(p), p) for p in candidates]
    fitting = [(major, p) for major, p in found if major is not None and major >= need]
    if not fitting:
        seen = ", ".join(f"{p} (Java {m})" for m, p in found if m is not None) or "none"
        raise NoSuitableJdk(
            f"Elasticsearch {es_version} needs Java >= {need}; JDKs found: {seen}. "
            "Install one (e.g. apt-get install openjdk-21-jdk-headless) or set ES_JAVA_HOME"
        )
    if env.get("JAVA_HOME") and fitting[0][1] == Path(env["JAVA_HOME"]):
        return Jdk(fitting[0][1], fitting[0][0])
    major, home = max(fitting, key=lambda item: item[0])
    return Jdk(home, major)
