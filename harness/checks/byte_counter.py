"""A TCP proxy on 127.0.0.1 that counts the bytes each way: put it between a connector and
its source to see how much the connector read, whatever the source or the connector."""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType

from harness.services.ports import LOOPBACK

CHUNK = 65536


class ByteCounter:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.to_client = 0  # what the source sent: what the connector read
        self.to_server = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server((LOOPBACK, 0))
        self.address: tuple[str, int] = self._listener.getsockname()[:2]
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._spawn(self._accept)

    def __enter__(self) -> ByteCounter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def reset(self) -> tuple[int, int]:
        """(bytes to the client, bytes to the server) since the last reset; zero them."""
        with self._lock:
            counts = (self.to_client, self.to_server)
            self.to_client = self.to_server = 0
        return counts

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() (close does not)
        self._listener.close()
        for sock in list(self._sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            self._sockets += [client, server]
            self._spawn(self._pump, server, client, True)
            self._spawn(self._pump, client, server, False)

    def _pump(self, source: socket.socket, sink: socket.socket, to_client: bool) -> None:
        try:
            while data := source.recv(CHUNK):
                # Counted before it is forwarded: once forwarded, the other side may answer
                # and that answer be counted before this count, which a reader then sees
                # short (a request's 4 bytes read as 0 beside its 12-byte answer, under load).
                with self._lock:
                    if to_client:
                        self.to_client += len(data)
                    else:
                        self.to_server += len(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
