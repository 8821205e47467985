"""A killed runner's guests, namespace and work dir are reaped by `run.py cleanup` and by any
later run; a job whose runner still runs is never touched."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from kvmtest.vm import netns
from kvmtest.vm.orphans import state_dir
from kvmtest.vm.reaper import find_guest_processes, proc_stat, runner_alive, runner_mark
from tests.run.helpers import REPO, ptest, queue, runner_cmd, runner_env, write_plan
from tests.vm.guestkit import JOB_PREFIX, cleanup_job, have_guest_tools, tiny_params
from tests.waiting import wait_for

RUN_PY = [sys.executable, str(REPO / "run.py")]


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def dead_mark() -> str:
    """The mark of a runner that has exited (its pid and create time)."""
    p = subprocess.Popen(["true"])
    mark = runner_mark(p.pid)
    p.wait()
    return mark


def marked_sleep(job: str, mark: str, **env_extra: str) -> subprocess.Popen:
    env = dict(os.environ, KVMTEST_JOB=job, KVMTEST_QUEUE="q1", KVMTEST_RUNNER=mark, **env_extra)
    return subprocess.Popen(["sleep", "999"], env=env)


def test_any_later_run_reaps_processes_of_a_dead_runner(tmp_path):
    """... of its own state dir: a process whose runner recorded itself in another one (another
    test of the suite, each with its own) is left to that state dir's runs."""
    orphan = marked_sleep(f"{JOB_PREFIX}-orphan", dead_mark())
    owned = marked_sleep(f"{JOB_PREFIX}-owned", runner_mark())  # its runner (this pytest) runs
    other = marked_sleep(f"{JOB_PREFIX}-other", dead_mark(), KVMTEST_STATE_DIR=str(tmp_path / "other"))
    try:
        cfg = tmp_path / "hosts.cfg"
        cfg.write_text("type = host_cmd\nhost_cmd = true\nhostname = localhost\n")
        res = subprocess.run(RUN_PY + ["-c", str(cfg), "--results", str(tmp_path / "r")],
                             capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stdout + res.stderr
        wait_for(lambda: orphan.poll() is not None, "the orphan to be reaped", timeout=10)
        assert f"job {JOB_PREFIX}-orphan: killed process (sleep, pid {orphan.pid}" in res.stderr
        assert owned.poll() is None and f"pid {owned.pid}" not in res.stderr
        assert other.poll() is None and f"pid {other.pid}" not in res.stderr
    finally:
        for p in (orphan, owned, other):
            p.kill()
            p.wait()


def guest_plan(tmp_path: Path, name: str, **extra: str) -> Path:
    params = tiny_params(type="boot", kill_vm="no", **extra)
    return write_plan(tmp_path / f"{name}.json", [queue(
        "q1", ptest("boot", "q1", **params),
        ptest("hold", "q1", type="sleep", sleep_length="300", start_vm="no"))])


def start(plan: Path, results: Path, job: str) -> subprocess.Popen:
    return subprocess.Popen(runner_cmd("--plan", str(plan), "--results", str(results), "--job-id", job),
                            env=runner_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def guest_pid(results: Path) -> int:
    env = results / "env" / "env-q1.json"
    if not env.exists():
        return 0
    guests = json.loads(env.read_text())["guests"]
    return guests["vm1"]["pid"] if "vm1" in guests else 0


@pytest.mark.guest
@pytest.mark.skipif(have_guest_tools() is not None, reason=str(have_guest_tools()))
def test_cleanup_reaps_a_sigkilled_runner_and_spares_a_running_job(tmp_path, tiny_guest):
    job_a, job_b = f"{JOB_PREFIX}-reapA", f"{JOB_PREFIX}-reapB"
    ra, rb = tmp_path / "ra", tmp_path / "rb"
    a = start(guest_plan(tmp_path, "a", nic_mode="tap", netdst="ktbr0"), ra, job_a)
    b = start(guest_plan(tmp_path, "b"), rb, job_b)
    try:
        wait_for(lambda: guest_pid(ra) and guest_pid(rb), "both jobs' guests", timeout=240)
        qa, qb = guest_pid(ra), guest_pid(rb)
        record = state_dir() / "runners" / f"{job_a}.json"
        workdir = Path(json.loads(record.read_text())["workdir"])
        assert workdir.is_dir() and netns.list_namespaces(job_a)
        a.kill()  # SIGKILL: no cleanup of its own
        a.wait()
        assert alive(qa), "the guest should outlive its killed runner (that is the bug)"

        res = subprocess.run(RUN_PY + ["cleanup"], capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stdout + res.stderr
        assert f"job {job_a}: killed guest vm1 (qemu-system-x86_64, pid {qa}" in res.stdout
        assert f"job {job_a}: removed network namespace kvmtest-" in res.stdout
        assert f"job {job_a}: removed work dir {workdir}" in res.stdout
        assert job_b not in res.stdout
        assert "reaped" not in res.stderr, "each reaped thing is said once, on stdout"
        assert not alive(qa) and not find_guest_processes(job_a)
        assert netns.list_namespaces(job_a) == [] and not workdir.exists() and not record.exists()
        assert alive(qb) and [p.pid for p in find_guest_processes(job_b)] == [qb]

        again = subprocess.run(RUN_PY + ["cleanup"], capture_output=True, text=True, timeout=120)
        assert job_a not in again.stdout and job_b not in again.stdout
    finally:
        for p in (a, b):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(60)
        cleanup_job(job_a)
        cleanup_job(job_b)


def test_marks_are_psutils_create_times_without_psutil():
    """runner_mark and runner_alive read /proc themselves (a run need not import psutil); their
    create time is psutil's, so marks written by either agree."""
    child = subprocess.Popen(["sleep", "999"])
    zombie = subprocess.Popen(["true"])
    wait_for(lambda: psutil.Process(zombie.pid).status() == psutil.STATUS_ZOMBIE, "a zombie")
    try:
        for pid in (os.getpid(), os.getppid(), child.pid, zombie.pid, 1):
            p = psutil.Process(pid)
            assert runner_mark(pid) == f"{pid}:{p.create_time():.2f}"
            assert (proc_stat(pid)[0] == "Z") == (p.status() == psutil.STATUS_ZOMBIE) == (pid == zombie.pid)
        assert runner_alive(runner_mark(child.pid)) and runner_alive(runner_mark())
        assert not runner_alive(runner_mark(zombie.pid))  # exited, not yet reaped: gone
        pid, ctime = runner_mark(child.pid).split(":")
        assert not runner_alive(f"{pid}:{float(ctime) - 1:.2f}")  # the pid, reused by another
        assert not runner_alive("junk") and not runner_alive("0:1.0")
    finally:
        child.kill()
        child.wait()
        zombie.wait()
    assert not runner_alive(f"{child.pid}:{psutil.Process().create_time():.2f}")
    with pytest.raises(psutil.NoSuchProcess):
        runner_mark(child.pid)
    out = subprocess.run([sys.executable, "-c", "import sys; import kvmtest.run.job;"
                          " print('psutil' in sys.modules)"], capture_output=True, text=True,
                         cwd=REPO, check=True).stdout
    assert out.strip() == "False"  # (a host-only run finds no marked process: no psutil)
