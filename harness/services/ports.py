"""Free loopback ports. Services bind to 127.0.0.1 only."""

from __future__ import annotations

import errno
import socket

from harness.services.base import PortInUseError

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port that is free right now; the caller retries if it is taken before use."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


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
