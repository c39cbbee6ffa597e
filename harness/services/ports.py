"""Loopback ports for local services, claimed for the whole life of the service.

Services bind to 127.0.0.1 only. A node killed and restarted by a fault scenario must get
its port back, and nothing else may answer there meanwhile. A port the kernel picks
(bind to 0) comes from the ephemeral range, which every outgoing connection and every
other program's bind(0) draws from too: under load, while a killed node took two
minutes to restart, another run's Elasticsearch was given its port and answered in its
place, without the connector state the sync then looked for. So ports are drawn from
outside the ephemeral range, where the kernel hands nothing out, and each is recorded in
a machine-wide claim that every harness process respects until the claiming work dir is
gone (stopped, or removed as stale after a killed run).
"""

from __future__ import annotations

import errno
import fcntl
import os
import random
import socket
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from harness.atomic import write_atomic
from harness.services.base import PortInUseError, ServiceError

LOOPBACK = "127.0.0.1"
CLAIMS_DIR_NAME = "search-harness-ports"
EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST_PORT = 10000  # below, well-known and registered servers live
MIN_RANGE = 2000  # a gap smaller than this is not worth leaving the ephemeral range for
PICKS = 200


def claims_dir() -> Path:
    """One per machine, whatever HARNESS_TMPDIR a run uses: runs with different work-dir
    bases still share the machine's ports."""
    path = Path(tempfile.gettempdir()) / CLAIMS_DIR_NAME
    if not path.is_dir():
        path.mkdir(exist_ok=True)
        if path.stat().st_uid == os.geteuid():
            os.chmod(path, 0o1777)  # root and unprivileged runs may share a machine
    return path


def port_range(ephemeral_file: Path = EPHEMERAL_RANGE_FILE) -> Sequence[int]:
    """The larger gap beside the kernel's ephemeral range; the ephemeral range itself only
    when neither gap is big enough (claims still keep harness processes apart there)."""
    try:
        low, high = (int(part) for part in ephemeral_file.read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999  # Linux's default
    below, above = range(LOWEST_PORT, low), range(high + 1, 65536)
    best = max(below, above, key=len)
    return best if len(best) >= MIN_RANGE else range(max(low, 1024), high + 1)


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def require_free(port: int, service: str) -> int:
    if port_in_use(port):
        raise PortInUseError(
            f"{service}: port {port} on {LOOPBACK} is already in use; "
            "choose another port or leave it unset to pick a free one"
        )
    return port


def claim_port(owner: Path) -> int:
    """A port free right now and claimed for ``owner`` (a service's work dir) until the
    dir is gone; the caller retries with another if a non-harness program binds it first."""
    ports = port_range()
    with _claims_locked() as claims:
        for port in random.sample(ports, min(PICKS, len(ports))):
            claim = claims / str(port)
            if _live_claim(claim) or port_in_use(port):
                continue
            write_atomic(claim, str(owner.absolute()))
            return port
    raise ServiceError(
        f"no free port found on {LOOPBACK} in {ports[0]}-{ports[-1]} after {PICKS} tries; "
        f"claims are in {claims_dir()}: remove the files whose work dir is gone"
    )


def release_ports(owner: Path) -> None:
    """Give up every claim of ``owner``; called when its work dir is removed."""
    wanted = str(owner.absolute())
    with _claims_locked() as claims:
        for claim in claims.iterdir():
            if claim.name.isdigit() and _claim_owner(claim) == wanted:
                claim.unlink(missing_ok=True)


def claimed_ports(owner: Path) -> list[int]:
    wanted = str(owner.absolute())
    with _claims_locked() as claims:
        return sorted(
            int(claim.name)
            for claim in claims.iterdir()
            if claim.name.isdigit() and _claim_owner(claim) == wanted
        )


def _claim_owner(claim: Path) -> str | None:
    try:
        return claim.read_text()
    except FileNotFoundError:
        return None


def _live_claim(claim: Path) -> bool:
    """A claim lives while its work dir exists; a dead one is removed on sight."""
    owner = _claim_owner(claim)
    if owner is None:
        return False
    if Path(owner).is_dir():
        return True
    claim.unlink(missing_ok=True)
    return False


@contextmanager
def _claims_locked() -> Iterator[Path]:
    """One harness process at a time picks or releases (the check and the claim are one step)."""
    claims = claims_dir()
    fd = os.open(claims / ".lock", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield claims
    finally:
        os.close(fd)
