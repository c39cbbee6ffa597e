"""Running services as an unprivileged user when the harness itself runs as root.

PostgreSQL's ``initdb`` and Elasticsearch both refuse to run as root, and sessions and CI
run as root, so services are started as ``HARNESS_SERVICE_USER`` (default ``nobody``).
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from harness.environment import HarnessEnvironment
from harness.services.base import ServiceError


class DropPrivileges(TypedDict, total=False):
    """``subprocess`` arguments that run a child as another user."""

    user: int
    group: int
    extra_groups: list[int]


@dataclass(frozen=True)
class ServiceUser:
    name: str
    uid: int
    gid: int

    def popen_kwargs(self) -> DropPrivileges:
        """Arguments for ``subprocess.Popen`` that drop to this user (no-op if it is us)."""
        if os.geteuid() == self.uid:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def current_user() -> ServiceUser:
    """Ourselves: for a service that is our own code and needs our interpreter."""
    entry = pwd.getpwuid(os.geteuid())
    return ServiceUser(entry.pw_name, entry.pw_uid, entry.pw_gid)


def service_user() -> ServiceUser:
    """The user services run as: ourselves, unless we are root."""
    if os.geteuid() != 0:
        return current_user()
    name = HarnessEnvironment.current().service_user
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise ServiceError(
            f"running as root, services must run as an unprivileged user, but user {name!r} "
            "does not exist; set HARNESS_SERVICE_USER to an existing non-root user"
        ) from None
    if entry.pw_uid == 0:
        raise ServiceError(f"HARNESS_SERVICE_USER={name!r} is root; services refuse to run as root")
    return ServiceUser(name, entry.pw_uid, entry.pw_gid)


def check_reachable(path: Path, user: ServiceUser) -> None:
    """Fail clearly if ``user`` cannot reach ``path`` (e.g. a work dir under /root)."""
    if os.geteuid() == user.uid:
        return
    for parent in path.parents:
        info = parent.stat()
        if info.st_uid == user.uid:
            continue
        if not info.st_mode & 0o001:
            raise ServiceError(
                f"the service user {user.name!r} cannot enter {parent} (mode "
                f"{oct(info.st_mode & 0o777)}); point HARNESS_TMPDIR / HARNESS_CACHE_DIR at a "
                "directory other users can traverse"
            )


def hand_over(path: Path, user: ServiceUser) -> None:
    """Give ``path`` (recursively) to the service user so it can write its data there."""
    if os.geteuid() != 0 or os.geteuid() == user.uid:
        return
    check_reachable(path, user)
    os.chown(path, user.uid, user.gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), user.uid, user.gid, follow_symlinks=False)


def make_traversable(path: Path) -> None:
    """Let other users read a shared, read-only tree (e.g. a cached ES distribution)."""
    for root, _dirs, files in os.walk(path):
        os.chmod(root, os.stat(root).st_mode | 0o755)
        for name in files:
            full = os.path.join(root, name)
            if os.path.islink(full):
                continue
            mode = os.stat(full).st_mode
            os.chmod(full, mode | (0o555 if mode & 0o100 else 0o444))
