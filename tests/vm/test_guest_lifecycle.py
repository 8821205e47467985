"""Guest lifecycle with real qemu: env-file reuse, hangs, crashes, kill_guests."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import psutil
import pytest

from kvmtest.testtypes import execute
from kvmtest.testtypes.errors import TestError, TestFail
from kvmtest.vm.env import Env
from kvmtest.vm.reaper import ENV_JOB, ENV_QUEUE, find_guest_processes, kill_guests
from tests.vm.guestkit import cleanup_job, context, have_guest_tools, job_id, tiny_params

guest = [pytest.mark.guest, pytest.mark.skipif(have_guest_tools() is not None, reason=str(have_guest_tools()))]


@pytest.fixture
def job():
    jid = job_id("lc")
    yield jid
    cleanup_job(jid)


def qemu_pids(job):
    return sorted(p.pid for p in find_guest_processes(job))


@pytest.mark.guest
@pytest.mark.skipif(have_guest_tools() is not None, reason=str(have_guest_tools()))
def test_env_reuse_across_tests(tmp_path, job, tiny_guest):
    env_path = tmp_path / "env.json"
    # Test 1 keeps its guest.
    p1 = tiny_params(type="shell", guest_cmd="echo one > /tmp/marker", kill_vm="no")
    execute(context(tmp_path, p1, job, name="t1"), Env.load(env_path))
    pids = qemu_pids(job)
    assert len(pids) == 1
    rec = Env.load(env_path).get_guest("vm1")
    assert rec is not None and rec.pid == pids[0]
    # Test 2, a fresh Env loaded from the file as a new test would: same params digest -> reused
    # (the marker written by test 1 is still there, no second boot in the console log).
    p2 = tiny_params(type="shell", guest_cmd="cat /tmp/marker", expected_output="^one$", kill_vm="no")
    t2 = context(tmp_path, p2, job, name="t2")
    execute(t2, Env.load(env_path))
    assert qemu_pids(job) == pids
    assert "KVMTEST-READY" not in (t2.logdir / "console-vm1.log").read_text()
    # Test 3 wants different guest params: the old guest is replaced.
    p3 = tiny_params(type="shell", guest_cmd="true", mem="320")
    execute(context(tmp_path, p3, job, name="t3"), Env.load(env_path))
    assert qemu_pids(job) == []  # test 3 did not keep it either
    assert Env.load(env_path).guests == {}


@pytest.mark.guest
@pytest.mark.skipif(have_guest_tools() is not None, reason=str(have_guest_tools()))
def test_hung_guest_is_killed_and_fails(tmp_path, job, tiny_guest):
    # A kernel panic with panic=0 leaves the guest hung: no prompt ever comes back (with the
    # panic watch off, so this stays a hang; tests/vm/test_panic.py covers the watch).
    params = tiny_params(type="shell", guest_cmd="echo c > /proc/sysrq-trigger", cmd_timeout="4",
                         watch_kernel_panic="no")
    t0 = time.monotonic()
    with pytest.raises(TestFail, match=r"vm1: no end of command .* within 4 s; guest killed"):
        execute(context(tmp_path, params, job), Env.load(tmp_path / "env"))
    assert time.monotonic() - t0 < 40
    assert qemu_pids(job) == []


@pytest.mark.guest
@pytest.mark.skipif(have_guest_tools() is not None, reason=str(have_guest_tools()))
def test_qemu_dying_mid_test_is_error_with_reason(tmp_path, job, tiny_guest):
    params = tiny_params(type="shell", guest_cmd="echo started; sleep 60", cmd_timeout="90")
    test = context(tmp_path, params, job)

    def killer():
        log = test.logdir / "console-vm1.log"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if log.exists() and "started" in log.read_text(errors="replace"):
                for p in find_guest_processes(job):
                    p.send_signal(signal.SIGKILL)
                return
            time.sleep(0.1)

    th = threading.Thread(target=killer)
    th.start()
    try:
        with pytest.raises(TestError, match=r"vm1: console closed .*qemu \(pid \d+\) killed by SIGKILL"):
            execute(test, Env.load(tmp_path / "env"))
    finally:
        th.join()
    assert Env.load(tmp_path / "env").guests == {}


@pytest.mark.guest
@pytest.mark.skipif(have_guest_tools() is not None, reason=str(have_guest_tools()))
def test_guest_that_never_boots_fails_clearly(tmp_path, job, tiny_guest):
    # init=/bin/false panics right away: no login prompt ever appears. The panic watch is off
    # so that the login timeout is what fails it (tests/vm/test_panic.py covers the panic path).
    params = tiny_params(type="boot", login_timeout="8", watch_kernel_panic="no",
                         kernel_params="console=ttyS0 quiet panic=0 rdinit=/bin/false")
    with pytest.raises(TestFail, match="no login or shell prompt on the console within 8 s; guest killed"):
        execute(context(tmp_path, params, job), Env.load(tmp_path / "env"))
    assert qemu_pids(job) == []


def test_kill_guests_kills_marked_process_trees_only(tmp_path):
    jid = job_id("kill")
    marked = {ENV_JOB: jid, ENV_QUEUE: "q1"}
    env = dict(marked)
    env.update({"PATH": "/usr/bin:/bin"})
    code = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    parent = subprocess.Popen([sys.executable, "-c", code], env=env)
    other_q = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], env=dict(env, KVMTEST_QUEUE="q2"))
    unmarked = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        deadline = time.monotonic() + 10
        while not psutil.Process(parent.pid).children() and time.monotonic() < deadline:
            time.sleep(0.05)
        child = psutil.Process(parent.pid).children()[0]
        assert kill_guests(jid, "q1", signal.SIGKILL) >= 1
        assert parent.wait(5) == -signal.SIGKILL
        assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
        assert other_q.poll() is None and unmarked.poll() is None
        assert kill_guests(jid) >= 1  # the whole job: q2 too
        assert other_q.wait(5) == -signal.SIGKILL
        assert unmarked.poll() is None
    finally:
        for p in (parent, other_q, unmarked):
            p.kill()
            p.wait()


@pytest.mark.guest
@pytest.mark.skipif(have_guest_tools() is not None, reason=str(have_guest_tools()))
def test_accel_probe_is_cached(tmp_path, tiny_guest):
    from kvmtest.vm import accel

    cache = tmp_path / "accel.json"
    verdict, why = accel.cached_probe("qemu-system-x86_64", timeout=3, cache=cache)
    assert verdict in ("kvm", "tcg") and why
    again, why2 = accel.cached_probe("qemu-system-x86_64", timeout=3, cache=cache)
    assert again == verdict and why2.endswith("(cached probe)")
    assert not find_guest_processes("accel-probe")


def test_accel_forced_values():
    from kvmtest.vm import accel

    assert accel.resolve({"accel": "tcg"}) == ("tcg", "accel = tcg")
    assert accel.resolve({"accel": "kvm"})[0] == "kvm"
    with pytest.raises(ValueError, match="expected auto, kvm or tcg"):
        accel.resolve({"accel": "hvf"})


@pytest.mark.guest
@pytest.mark.skipif(have_guest_tools() is not None, reason=str(have_guest_tools()))
def test_long_work_dir_sockets_live_in_a_short_dir_removed_after(tmp_path, job, tiny_guest):
    """A work dir too deep for a unix socket path: the guest's sockets go to a short
    /tmp/kvmtest-<hash> dir, which the guest's cleanup removes again."""
    from kvmtest.vm.qemu import socket_dir

    deep = tmp_path / ("d" * 60) / ("e" * 60)
    ctx = context(deep, tiny_params(type="shell", guest_cmd="true"), job, name="long")
    sdir = socket_dir(ctx.workdir)
    assert sdir != ctx.workdir and not sdir.exists()  # made when the guest starts, not before
    execute(ctx, Env.load(deep / "env.json"))
    assert not sdir.exists()
    assert find_guest_processes(job) == []
