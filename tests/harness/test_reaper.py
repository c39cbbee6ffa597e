"""The reaper stops a service when the process that started it is SIGKILLed."""

import os
import signal
import subprocess
import sys
import textwrap
import time

from harness.services.reaper import process_tree

STARTER = textwrap.dedent("""
    import sys, pathlib
    from harness.services.privileges import service_user
    from harness.services.process import ServiceProcess
    from harness.services.workdirs import Workdir
    work = Workdir.create("reaper-test")
    proc = ServiceProcess("sleeper", ["sh", "-c", "sleep 300 & sleep 300"],
                          log_path=work.path / "console.log", env={"PATH": "/usr/bin:/bin"},
                          user=service_user())
    print(proc.pgid, work.path, flush=True)
    sys.stdin.read()  # block until killed
""")


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.05)


def test_services_die_with_a_sigkilled_owner(tmp_path):
    env = dict(os.environ, HARNESS_TMPDIR=str(tmp_path))
    owner = subprocess.Popen(
        [sys.executable, "-c", STARTER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert owner.stdout is not None
    pgid_text, workdir = owner.stdout.readline().split()
    pgid = int(pgid_text)
    wait_until(lambda: len(process_tree(pgid)) >= 3, 10, "the service's process tree")
    members = process_tree(pgid)

    owner.send_signal(signal.SIGKILL)
    owner.wait()

    wait_until(lambda: not process_tree(pgid), 15, f"the reaper to kill {members}")
    wait_until(lambda: not os.path.exists(workdir), 5, "the reaper to remove the work dir")


KILLS_ITS_REAPER = textwrap.dedent("""
    import os, signal, sys, warnings
    from harness.services.privileges import service_user
    from harness.services.process import ServiceProcess
    from harness.services.reaper import Reaper
    from harness.services.workdirs import Workdir
    work = Workdir.create("reaper-test")
    proc = ServiceProcess("sleeper", ["sh", "-c", "sleep 300 & sleep 300"],
                          log_path=work.path / "console.log", env={"PATH": "/usr/bin:/bin"},
                          user=service_user())
    first = Reaper.get().pid
    os.kill(first, signal.SIGKILL)
    os.waitpid(first, 0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        note = Reaper.check()
    print(proc.pgid, work.path, first, Reaper.get().pid, flush=True)
    print(note, [str(w.message) for w in caught], flush=True)
    sys.stdin.read()  # block until killed
""")


def test_a_killed_reaper_is_replaced_and_its_successor_still_reaps(tmp_path):
    env = dict(os.environ, HARNESS_TMPDIR=str(tmp_path))
    owner = subprocess.Popen(
        [sys.executable, "-c", KILLS_ITS_REAPER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert owner.stdout is not None
    pgid_text, workdir, first, second = owner.stdout.readline().split()
    report = owner.stdout.readline()
    pgid = int(pgid_text)
    assert first != second, "the dead reaper was not replaced"
    assert f"the service reaper (pid {first}) died" in report
    assert "watches its 1 service group(s) and 1 dir(s)" in report
    assert report.count("died") == 2, f"no warning was raised: {report}"
    wait_until(lambda: len(process_tree(pgid)) >= 3, 10, "the service's process tree")

    owner.send_signal(signal.SIGKILL)
    owner.wait()

    wait_until(lambda: not process_tree(pgid), 15, "the new reaper to kill the service")
    wait_until(lambda: not os.path.exists(workdir), 5, "the new reaper to remove the work dir")


STARTS_A_SUBJECT = textwrap.dedent("""
    import subprocess, sys, threading
    from harness.subjects.processes import run_guarded, start_guarded
    background = start_guarded(["sleep", "300"], stdout=subprocess.DEVNULL)
    threading.Thread(  # a subject run in the foreground, as a sync is
        target=run_guarded, args=(["sh", "-c", "echo $$; exec sleep 300"],),
        kwargs={"timeout": 600, "text": True}, daemon=True,
    ).start()
    print(background.pid, flush=True)
    sys.stdin.read()  # block until killed
""")


def test_subjects_die_with_a_sigkilled_owner(tmp_path):
    """A `connectors` process started by a pytest that is SIGKILLed was still running 60 s
    later: subjects are now watched by the reaper too, in the background or not."""
    env = dict(os.environ, HARNESS_TMPDIR=str(tmp_path))
    owner = subprocess.Popen(
        [sys.executable, "-c", STARTS_A_SUBJECT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert owner.stdout is not None
    background = int(owner.stdout.readline())
    wait_until(lambda: len(_sleepers(owner.pid)) == 2, 10, "both subjects to start")
    subjects = _sleepers(owner.pid)
    assert background in subjects

    owner.send_signal(signal.SIGKILL)
    owner.wait()

    wait_until(lambda: not any(process_tree(pid) for pid in subjects), 15, f"{subjects} to die")


def _sleepers(parent: int) -> list[int]:
    found = []
    for pid in process_tree(parent):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if handle.read().startswith(b"sleep\x00300"):
                    found.append(pid)
        except OSError:
            pass
    return found
