"""The byte-counting proxy forwards both ways, counts each way, and closes promptly."""

import socket
import threading
import time

from harness.checks.byte_counter import ByteCounter
from tests.harness.helpers import wait_until


def test_forwards_counts_and_closes_promptly():
    server = socket.create_server(("127.0.0.1", 0))

    def triple_echo() -> None:
        conn, _ = server.accept()
        with conn:
            while data := conn.recv(100):
                conn.sendall(data * 3)

    threading.Thread(target=triple_echo, daemon=True).start()
    started = time.monotonic()
    with ByteCounter(*server.getsockname()[:2]) as counter:
        with socket.create_connection(counter.address) as client:
            client.sendall(b"abcd")
            received = b""
            while len(received) < 12:
                received += client.recv(100)
        assert received == b"abcd" * 3
        wait_until(lambda: counter.to_client == 12, 5, "the proxy to count the reply")
        assert counter.reset() == (12, 4)
        assert counter.reset() == (0, 0)
    assert time.monotonic() - started < 3, "closing waited on a blocked accept()"
    server.close()
