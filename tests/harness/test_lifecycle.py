"""Nothing the harness starts outlives the pytest run that started it: not after a failing
test, not after SIGINT or SIGTERM, not even after SIGKILL (the reaper's case)."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.services.reaper import kill_group, process_tree
from harness.services.workdirs import processes_using
from tests.harness.helpers import running, wait_until

pytestmark = pytest.mark.services

INNER_TEST = textwrap.dedent("""
    import json, os, pathlib, time
    from harness.atomic import write_atomic

    def test_inner(request):
        names = os.environ["INNER_SERVICES"].split(",")
        services = [request.getfixturevalue(name) for name in names]
        record = {
            "pgids": [s.process.pgid for s in services],
            "pids": [pid for s in services for pid in s.pids()],
            "workdirs": [str(s.workdir.path) for s in services],
        }
        write_atomic(pathlib.Path(os.environ["INNER_OUT"]), json.dumps(record))
        if os.environ["INNER_MODE"] == "fail":
            assert False, "deliberate failure"
        # Stand still until the outer test signals us. Not signal.pause(): a signal that
        # lands between the record's write and pause(2) is handled, and pause waits on.
        while True:
            time.sleep(0.2)
""")


# The inner pytest, with Ctrl-C's default meaning even when this run was started where
# SIGINT is ignored (a background job of a shell without job control): ignored signals
# are inherited, and Python then installs no KeyboardInterrupt handler.
INNER_MAIN = (
    "import signal, sys, pytest; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '--backend', 'local', "
    "'test_inner.py']))"
)


def run_inner(tmp_path: Path, service_tmpdir: Path, services: str, mode: str, sig: int | None):
    (tmp_path / "test_inner.py").write_text(INNER_TEST)
    out = tmp_path / "record.json"
    log = tmp_path / "pytest.log"
    env = dict(
        os.environ,
        HARNESS_TMPDIR=str(service_tmpdir),
        INNER_OUT=str(out),
        INNER_MODE=mode,
        INNER_SERVICES=services,
    )
    with log.open("w") as handle:
        proc = subprocess.Popen(
            [sys.executable, "-c", INNER_MAIN],
            cwd=tmp_path,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(out.exists, 240, "the inner run's services", log)
            record = json.loads(out.read_text())
            assert record["pids"], "the inner run reported no service processes"
            if sig is not None:
                proc.send_signal(sig)
            try:
                code = proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-60:])
                raise AssertionError(f"the inner run did not end after {sig}:\n{tail}") from None
        finally:
            if proc.poll() is None:
                proc.kill()
    return code, record, log


def assert_nothing_left(record: dict, log: Path) -> None:
    for pgid in record["pgids"]:
        wait_until(
            lambda pgid=pgid: not process_tree(pgid), 30, f"service group {pgid} to end", log
        )
    alive = [pid for pid in record["pids"] if running(pid)]
    assert not alive, f"processes left running: {alive}"
    for workdir in record["workdirs"]:
        wait_until(lambda w=workdir: not os.path.exists(w), 10, f"{workdir} to be removed", log)


def test_cleanup_after_a_failing_test(tmp_path, service_tmpdir):
    code, record, log = run_inner(
        tmp_path, service_tmpdir, "elasticsearch_service,postgresql_service", "fail", None
    )
    assert code == 1, log.read_text()
    assert "deliberate failure" in log.read_text()
    assert_nothing_left(record, log)


@pytest.mark.parametrize(
    ("sig", "services"),
    [
        (signal.SIGINT, "postgresql_service"),
        (signal.SIGTERM, "elasticsearch_service,postgresql_service"),
    ],
    ids=["SIGINT", "SIGTERM"],
)
def test_cleanup_after_pytest_is_interrupted(tmp_path, service_tmpdir, sig, services):
    code, record, log = run_inner(tmp_path, service_tmpdir, services, "block", sig)
    assert code == pytest.ExitCode.INTERRUPTED, log.read_text()
    assert_nothing_left(record, log)


def test_cleanup_after_pytest_is_killed(tmp_path, service_tmpdir):
    code, record, log = run_inner(
        tmp_path, service_tmpdir, "postgresql_service", "block", signal.SIGKILL
    )
    assert code == -signal.SIGKILL
    assert_nothing_left(record, log)


OUTER_PROCESS = textwrap.dedent("""
    import subprocess, sys, time
    from pathlib import Path
    from tests.harness.helpers import private_service_state

    here = Path(sys.argv[1])
    with private_service_state(here) as env:
        # What an inner run with --reuse-services does first: detached services, recorded.
        up = "from harness.cli import main; main(['up', '--detach', '--services', 'postgresql'])"
        subprocess.run([sys.executable, "-c", up], env=env, check=True)
        (here / "up").write_text("")
        while True:
            time.sleep(0.2)
""")


@pytest.mark.parametrize("death", ["SIGKILL", "its whole tree stopped"])
def test_services_inner_runs_started_for_a_killed_test_are_stopped(tmp_path, service_tmpdir, death):
    """Seen when a CI run was stopped: the services that a test's inner runs had started
    (detached, for --reuse-services) outlived it, with nobody left to stop them. A stopped
    ``harness stress`` run ends the whole tree under it, the test's reaper included."""
    log = tmp_path / "outer.log"
    with log.open("w") as handle:
        outer = subprocess.Popen(
            [sys.executable, "-c", OUTER_PROCESS, str(tmp_path)],
            cwd=Path(__file__).resolve().parents[2],
            env=dict(os.environ, HARNESS_TMPDIR=str(service_tmpdir)),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until((tmp_path / "up").exists, 240, "the inner run's services", log)
            workdirs = [path for path in service_tmpdir.iterdir() if path.is_dir()]
            pids = [pid for path in workdirs for pid in processes_using(path)]
            assert pids, f"no service runs in {workdirs}"
        finally:
            if death == "SIGKILL":
                outer.kill()
            else:  # at once, with no grace: as if the sweep outlasted it
                kill_group(outer.pid, grace=0)
            outer.wait()
    wait_until(lambda: not any(running(pid) for pid in pids), 60, "the services to end", log)
    wait_until(lambda: not any(p.exists() for p in workdirs), 10, "their dirs to go", log)
