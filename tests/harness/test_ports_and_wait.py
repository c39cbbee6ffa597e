import socket

import pytest

from harness.services.base import PortInUseError, ServiceStartError
from harness.services.ports import free_port, port_in_use, require_free
from harness.services.wait import NotReady, WaitFor


def test_a_listening_port_is_reported_taken():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert port_in_use(port)
        with pytest.raises(PortInUseError, match=f"port {port} on 127.0.0.1 is already in use"):
            require_free(port, "postgresql")
    assert not port_in_use(port)


def test_free_port_is_bindable():
    port = free_port()
    assert require_free(port, "x") == port


def test_wait_times_out_with_the_reason_and_log_tail():
    def probe():
        raise NotReady("cluster health is red")

    with pytest.raises(ServiceStartError) as info:
        WaitFor("es", probe, timeout=0.2, interval=0.05).run(log_tail=lambda: "ERROR disk full\n")
    message = str(info.value)
    assert "not ready after" in message
    assert "cluster health is red" in message
    assert "ERROR disk full" in message


def test_wait_fails_fast_when_the_process_exits():
    with pytest.raises(ServiceStartError, match="exited with code 78 before it was ready"):
        WaitFor("es", lambda: None, timeout=60).run(exited=lambda: 78)


def test_wait_returns_the_probe_result_once_ready():
    calls = iter([NotReady("a"), ConnectionRefusedError(), "ok"])

    def probe():
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    assert WaitFor("x", probe, timeout=5, interval=0.01).run() == "ok"
