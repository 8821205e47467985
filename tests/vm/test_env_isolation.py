"""An env record is only acted on by the job queue that wrote it, and only for a process that
provably is that guest: no reattaching to another job's guest, no signal to a stranger."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time

import psutil
import pytest

from kvmtest.testtypes import execute
from kvmtest.testtypes.errors import TestError
from kvmtest.vm.env import Env, GuestRecord
from kvmtest.vm.reaper import find_guest_processes, verified_guest
from tests.run.helpers import ptest, queue, runner_cmd, runner_env, write_plan
from tests.vm.guestkit import (
    JOB_PREFIX,
    cleanup_job,
    context,
    have_guest_tools,
    job_id,
    tiny_params,
)
from tests.waiting import wait_for


def stranger_record(proc: psutil.Process, **kw) -> GuestRecord:
    fields = dict(name="vm1", vm_type="qemu", pid=proc.pid, create_time=proc.create_time(),
                  cmdline=[], params_digest="old", job_id="j1", queue="q1")
    fields.update(kw)
    return GuestRecord(**fields)


@pytest.mark.parametrize("variant", ["empty cmdline", "no markers", "other job"])
def test_a_stranger_is_never_signalled(tmp_path, variant):
    """The record points at a `sleep 999` that is not our qemu; the test replaces the guest
    (params changed), which used to SIGKILL whatever had the pid."""
    env_marks = {"no markers": {}, "empty cmdline": {},
                 "other job": {"KVMTEST_JOB": "j0", "KVMTEST_QUEUE": "q1", "KVMTEST_VM": "vm1"}}
    sleeper = subprocess.Popen(["sleep", "999"], env=dict(os.environ, **env_marks[variant]))
    try:
        proc = psutil.Process(sleeper.pid)
        cmdline = [] if variant == "empty cmdline" else proc.cmdline()
        rec = stranger_record(proc, cmdline=cmdline)
        assert verified_guest(rec.pid, rec.create_time, rec.cmdline, "j1", "q1", "vm1") is None
        env = Env(tmp_path / "env.json")
        env.register_guest(rec)
        env.save()
        # the new guest cannot start (no such image): the test only gets as far as dropping the old one
        params = tiny_params(type="boot", image_name_data="images/nope")
        with pytest.raises(TestError, match="does not exist"):
            execute(context(tmp_path, params, "j1", queue="q1"), Env.load(tmp_path / "env.json"))
        time.sleep(0.2)
        assert sleeper.poll() is None, "kvmtest signalled a process that is not its guest"
        assert json.loads((tmp_path / "env.json").read_text())["guests"] == {}
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.guest
@pytest.mark.skipif(have_guest_tools() is not None, reason=str(have_guest_tools()))
def test_job_b_never_reattaches_to_job_a_guest(tmp_path, tiny_guest):
    """Job A (a real runner) keeps a guest; job B is handed A's env record (as a shared env file
    did): B boots its own guest, and A's guest is neither used nor stopped."""
    job_a = f"{JOB_PREFIX}-envA"
    params = tiny_params(type="boot", kill_vm="no")
    plan = write_plan(tmp_path / "plan.json", [queue(
        "q1", ptest("boot", "q1", **params),
        ptest("hold", "q1", type="sleep", sleep_length="120", start_vm="no"))])
    res_a = tmp_path / "ra"
    runner = subprocess.Popen(runner_cmd("--plan", str(plan), "--results", str(res_a),
                                         "--job-id", job_a),
                              env=runner_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    job_b = job_id("envB")
    try:
        env_a = res_a / "env" / "env-q1.json"
        wait_for(lambda: env_a.exists() and json.loads(env_a.read_text())["guests"],
                 "job A to record its guest", timeout=180)
        a_pid = json.loads(env_a.read_text())["guests"]["vm1"]["pid"]
        env_b = tmp_path / "env-b.json"
        shutil.copy(env_a, env_b)  # B is handed A's record
        b_params = tiny_params(type="boot")
        execute(context(tmp_path, b_params, job_b, queue="q1"), Env.load(env_b))
        assert psutil.pid_exists(a_pid) and [p.pid for p in find_guest_processes(job_a)] == [a_pid]
        console_b = (tmp_path / "logs" / "t" / "console-vm1.log").read_text()
        assert "KVMTEST-READY" in console_b  # B booted a guest of its own
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.wait(60)
        cleanup_job(job_b)
        cleanup_job(job_a)
