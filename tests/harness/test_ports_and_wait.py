import socket

import pytest

from harness.services import ports
from harness.services.base import PortInUseError, ServiceError, ServiceStartError
from harness.services.ports import claim_port, port_in_use, port_range, require_free
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


def test_a_claimed_port_is_bindable_and_outside_the_ephemeral_range(tmp_path):
    port = claim_port(tmp_path)
    assert require_free(port, "x") == port
    low, high = (int(p) for p in ports.EPHEMERAL_RANGE_FILE.read_text().split())
    assert not low <= port <= high, "the kernel may hand an ephemeral port to anyone"


@pytest.mark.parametrize(
    "ephemeral, expected",
    [
        ("32768\t60999\n", range(10000, 32768)),  # Linux's default: the gap below
        ("10500 49151", range(49152, 65536)),  # the gap above is the larger
        ("1024 65535", range(1024, 65536)),  # no gap: claims still keep runs apart
        ("garbage", range(10000, 32768)),
    ],
)
def test_ports_come_from_beside_the_ephemeral_range(tmp_path, ephemeral, expected):
    (tmp_path / "range").write_text(ephemeral)
    assert port_range(tmp_path / "range") == expected


@pytest.fixture
def three_ports(tmp_path, monkeypatch):
    """A private claims dir and a range of three free ports. They are held in the
    machine's claims for the test's length, so that no other harness process (an xdist
    worker starting a service) binds one of them meanwhile."""
    held = tmp_path / "held"
    held.mkdir()
    picked = [claim_port(held) for _ in range(3)]
    monkeypatch.setattr(ports, "claims_dir", lambda: tmp_path / "claims")
    (tmp_path / "claims").mkdir()
    monkeypatch.setattr(ports, "port_range", lambda: sorted(picked))
    yield picked
    held.rmdir()  # the machine's claims on them are dead from here


def test_a_claimed_port_is_never_handed_out_again_while_its_owner_lives(tmp_path, three_ports):
    owners = [tmp_path / f"service-{n}" for n in range(5)]
    for owner in owners:
        owner.mkdir()
    claimed = [claim_port(owner) for owner in owners[:3]]
    assert sorted(claimed) == sorted(three_ports), "a port was handed out twice"
    with pytest.raises(ServiceError, match="no free port found"):
        claim_port(owners[3])
    ports.release_ports(owners[0])  # stopped: its port is free for others
    assert claim_port(owners[3]) == claimed[0]
    owners[1].rmdir()  # removed as stale after a killed run: its claim is dead too
    assert claim_port(owners[4]) == claimed[1]
    assert ports.claimed_ports(owners[2]) == [claimed[2]]


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
