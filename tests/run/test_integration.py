"""The runner as a real process: real test types, real child processes, real signals.

``python -m kvmtest.run`` runs plans of ``sleep`` and ``host_cmd`` tests plus two
test types from tests/run/types (a test that hangs for good, one that leaks a
real qemu). Waits poll the results directory; no assertion is about speed.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from kvmtest.results import load_results
from kvmtest.vm.reaper import ENV_JOB
from tests.run.helpers import (
    cmd,
    ptest,
    queue,
    run_runner,
    runner_cmd,
    runner_env,
    sleep,
    write_plan,
)
from tests.waiting import wait_for

TYPES = str(Path(__file__).resolve().parent / "types")


def results_of(d: Path) -> dict:
    """What a reader sees mid-run: results.json merged with its journal (results.jsonl)."""
    try:
        return load_results(d).to_json()
    except (FileNotFoundError, ValueError):
        return {"tests": []}


def statuses(d: Path) -> dict:
    return {t["shortname"]: t["status"] for t in results_of(d)["tests"]}


def job_processes(job_id: str) -> list:
    out = []
    for p in psutil.process_iter(["pid"]):
        try:
            if p.environ().get(ENV_JOB) == job_id:
                out.append(p)
        except (psutil.Error, OSError):
            pass
    return out


def _cmdline(p: psutil.Process) -> str:
    try:
        return " ".join(p.cmdline())
    except psutil.Error:
        return ""


def alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def start_runner(plan: Path, results: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(runner_cmd("--plan", str(plan), "--results", str(results), *extra),
                            env=runner_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_two_queues_really_overlap(tmp_path):
    plan = write_plan(tmp_path / "plan.json", [
        queue("q1", sleep("a.s1", 0.6), sleep("a.s2", 0.6)),
        queue("q2", sleep("b.s1", 0.6, "q2"), sleep("b.s2", 0.6, "q2")),
    ])
    res = run_runner("--plan", str(plan), "--results", str(tmp_path / "r"))
    assert res.returncode == 0, res.stdout + res.stderr
    tests = results_of(tmp_path / "r")["tests"]
    assert {t["status"] for t in tests} == {"PASS"} and len(tests) == 4
    span = {}
    for q in ("q1", "q2"):
        mine = [t for t in tests if t["queue"] == q]
        span[q] = (min(t["start"] for t in mine), max(t["end"] for t in mine))
        # within a queue: plan order, one after the other
        a, b = sorted(mine, key=lambda t: t["start"])
        assert a["id"].endswith("1-s1") and b["start"] >= a["end"]
    overlap = min(span["q1"][1], span["q2"][1]) - max(span["q1"][0], span["q2"][0])
    assert overlap > 0.5, span  # both queues were busy at the same time for most of the job
    assert "[localhost/q1] START 1-s1" in res.stdout
    assert "results: " in res.stdout and "TOTAL" in res.stdout


def test_hung_test_is_interrupted_and_the_other_queue_finishes(tmp_path):
    plan = write_plan(tmp_path / "plan.json", [
        queue("q1", ptest("a.hang", "q1", type="hang", test_dirs=TYPES, timeout="1"),
              cmd("a.after", "true")),
        queue("q2", *(sleep(f"b.s{i}", 0.3, "q2") for i in range(4))),
    ])
    res = run_runner("--plan", str(plan), "--results", str(tmp_path / "r"),
                     "--grace", "0.5", "--abandon-after", "0.5")
    assert res.returncode == 1, res.stdout + res.stderr
    data = results_of(tmp_path / "r")
    by = {t["shortname"]: t for t in data["tests"]}
    assert by["hang"]["status"] == "INTERRUPTED"
    assert by["hang"]["fail_class"] == "TestTimeout"
    assert "timed out after 1 s" in by["hang"]["fail_reason"]
    assert "abandoned" in by["hang"]["fail_reason"]
    assert by["after"]["status"] == "PASS"  # the queue went on
    assert [by[f"s{i}"]["status"] for i in range(4)] == ["PASS"] * 4
    # the other queue was not held up: it finished its tests while the hung one ran
    assert by["s1"]["end"] < by["hang"]["end"]


@pytest.mark.guest  # starts a real (paused) qemu
def test_sigterm_stops_everything_kills_guests_and_keeps_finished_results(tmp_path):
    if not shutil.which("qemu-system-x86_64"):
        pytest.skip("qemu-system-x86_64 not installed")
    job_id = f"sigterm{int(time.time() * 1000) % 10**8}"
    plan = write_plan(tmp_path / "plan.json", [
        queue("q1", cmd("a.first", "true"),
              ptest("a.guest", "q1", type="leak_qemu", test_dirs=TYPES),
              cmd("a.never", "true")),
        queue("q2", sleep("b.quick", 0, "q2"), sleep("b.long", 600, "q2")),
    ])
    r = tmp_path / "r"
    proc = start_runner(plan, r, "--job-id", job_id)
    try:
        wait_for(lambda: statuses(r).get("first") == "PASS"
                 and statuses(r).get("quick") == "PASS", "the first tests to finish")
        pid_file = r / "tests" / "localhost-q1" / "2-guest" / "qemu.pid"
        # (created a moment before the pid is written in it: read it once it holds one)
        wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), "the qemu to start")
        qemu = psutil.Process(int(pid_file.read_text()))
        assert "qemu" in qemu.name()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, out + err
    assert not alive(qemu)
    assert job_processes(job_id) == []
    data = results_of(r)
    st = statuses(r)
    assert st == {"first": "PASS", "quick": "PASS", "guest": "INTERRUPTED", "long": "INTERRUPTED"}
    assert {t["fail_class"] for t in data["tests"] if t["status"] == "INTERRUPTED"} == \
        {"JobInterrupted"}
    assert data["job"]["interrupted"] == "SIGTERM"
    assert data["pending"] == 3  # guest, long, never
    assert "SIGTERM received" in err
    assert "TOTAL" in out and f"results: {r}" in out


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_resume_finishes_the_job_without_rerunning_finished_tests(tmp_path, sig):
    log = tmp_path / "ran.log"
    release = tmp_path / "release"
    block = f"while [ ! -e {release} ]; do sleep 0.05; done; echo block >> {log}"
    plan = write_plan(tmp_path / "plan.json", [
        queue("q1", cmd("a.first", f"sh -c 'echo first >> {log}'"),
              cmd("a.block", f"sh -c '{block}'"),
              cmd("a.last", f"sh -c 'echo last >> {log}'", dep=["a.block"])),
        queue("q2", cmd("b.other", f"sh -c 'echo other >> {log}'", "q2")),
    ])
    r = tmp_path / "r"
    job_id = f"resume{sig}x{int(time.time() * 1000) % 10**8}"
    proc = start_runner(plan, r, "--job-id", job_id)
    try:
        wait_for(lambda: statuses(r).get("first") == "PASS" and statuses(r).get("other") == "PASS",
                 "first and other to pass")
        wait_for((r / "tests" / "localhost-q1" / "2-block" / "debug.log").exists, "block to start")
        # its debug.log exists a moment before its shell does: a SIGKILL in between leaves nothing
        wait_for(lambda: any("release" in _cmdline(p) for p in job_processes(job_id)),
                 "the blocking host command to run")
        proc.send_signal(sig)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode in (128 + signal.SIGTERM, -signal.SIGKILL)
    before = statuses(r)
    assert before["first"] == before["other"] == "PASS"
    assert "last" not in before
    # nothing a killed runner recorded is lost: statuses() read results.json + its journal.
    # results.xml is a snapshot (at most a few seconds old): one command brings it up to date
    import xml.etree.ElementTree as ET

    ET.parse(r / "results.xml")  # a complete file, never half written
    redo = subprocess.run([sys.executable, "-m", "kvmtest.results", str(r), "--junit",
                           str(r / "results.xml")], env=runner_env(), capture_output=True,
                          text=True, timeout=60)
    assert redo.returncode == 1, redo.stderr  # 1: not every planned test passed (yet)
    cases = {c.get("name").rsplit(".", 1)[-1]: c
             for c in ET.parse(r / "results.xml").getroot().iter("testcase")}
    assert {"first", "other"} <= set(cases) and "last" not in cases
    assert cases["first"].find("failure") is None and cases["first"].find("error") is None
    orphans = job_processes(job_id)
    if sig == signal.SIGTERM:
        assert orphans == []  # the stopped runner cleaned up after itself
    else:
        assert orphans  # a crashed runner leaves the running host command behind

    resume = subprocess.Popen(runner_cmd("--results", str(r), "--resume"), env=runner_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # --resume first kills what the crashed run left, so the old "block" never finishes
        wait_for(lambda: not any(alive(p) for p in orphans),
                 "leftovers of the first run to be killed")
        release.touch()
        out, err = resume.communicate(timeout=60)
    finally:
        if resume.poll() is None:
            resume.kill()
            resume.wait()
    assert resume.returncode == 0, out + err
    data = results_of(r)
    assert statuses(r) == {"first": "PASS", "other": "PASS", "block": "PASS", "last": "PASS"}
    assert sorted(log.read_text().split()) == ["block", "first", "last", "other"]
    assert data["pending"] == 0 and len(data["job"]["runs"]) == 2
    assert data["job"]["runs"][1]["resume"] is True
    assert data["job"]["runs"][1]["tests"] == 2  # only block and last ran again
    block_result = next(t for t in data["tests"] if t["shortname"] == "block")
    if sig == signal.SIGTERM:  # the stopped attempt is kept as history
        assert block_result["attempt"] == 2
        assert [t["status"] for t in data["superseded"]] == ["INTERRUPTED"]
        assert block_result["logdir"].endswith("2-block.2")
    # a second resume has nothing to do and still exits 0
    again = run_runner("--results", str(r), "--resume")
    assert again.returncode == 0 and sorted(log.read_text().split()) == \
        ["block", "first", "last", "other"]


def test_plan_error_is_reported_before_anything_runs(tmp_path):
    marker = tmp_path / "ran"
    plan = write_plan(tmp_path / "plan.json", [
        queue("q1", cmd("a.first", f"touch {marker}")),
        queue("q2", ptest("b.second", "q2", dep=["a.first"], type="host_cmd", host_cmd="true")),
    ])
    res = run_runner("--plan", str(plan), "--results", str(tmp_path / "r"))
    assert res.returncode == 2
    assert "another queue" in res.stderr and "localhost/q1" in res.stderr
    assert not marker.exists() and not (tmp_path / "r").exists()


def test_existing_results_dir_needs_resume(tmp_path):
    plan = write_plan(tmp_path / "plan.json", [queue("q1", sleep("a.s", 0))])
    assert run_runner("--plan", str(plan), "--results", str(tmp_path / "r")).returncode == 0
    res = run_runner("--plan", str(plan), "--results", str(tmp_path / "r"))
    assert res.returncode == 2 and "--resume" in res.stderr


# --- real guests (the tiny guest under TCG) ------------------------------------------------

def demo_boot_test(queue_name: str):
    """The demo's boot test as the planning stage produces it, moved to ``queue_name``."""
    import dataclasses

    import kvmtest

    plan = kvmtest.load([str(Path(__file__).resolve().parents[2] / "samples/demo/kvm_hosts.cfg")],
                        "smoke", local_host="localhost", only=["boot"])
    boot = plan.tests[0]
    return dataclasses.replace(boot, queue=queue_name, hostname="localhost", env=f"env-{queue_name}")


@pytest.mark.guest
@pytest.mark.usefixtures("tiny_guest")
def test_sigint_with_a_real_guest_up_leaves_no_qemu(tmp_path):
    """boot keeps its guest (kill_vm = no); SIGINT while the next test runs must kill it."""
    job_id = f"guestint{int(time.time() * 1000) % 10**8}"
    plan = write_plan(tmp_path / "plan.json", [
        queue("q1", demo_boot_test("q1"), sleep("a.wait", 600)),
        queue("q2", sleep("b.nap", 0, "q2")),
    ])
    r = tmp_path / "r"
    proc = start_runner(plan, r, "--job-id", job_id)
    try:
        wait_for(lambda: statuses(r).get("boot") in ("PASS", "FAIL", "ERROR"), "boot", timeout=180)
        assert statuses(r)["boot"] == "PASS", (r / "tests").glob("*/*/debug.log")
        guests = [p for p in job_processes(job_id) if "qemu" in p.name()]
        assert guests, "the booted guest should still be up (kill_vm = no)"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGINT, out + err
    assert not any(alive(g) for g in guests)
    assert job_processes(job_id) == []
    assert statuses(r) == {"boot": "PASS", "nap": "PASS", "wait": "INTERRUPTED"}
    logdir = r / results_of(r)["tests"][0]["logdir"]
    names = {p.name for p in (r / "tests" / "localhost-q1" / "1-boot").iterdir()}
    assert "debug.log" in names and any(n.startswith("console") for n in names), (logdir, names)


@pytest.mark.guest
@pytest.mark.usefixtures("tiny_guest")
def test_watchdog_kills_a_booting_guest_and_the_queue_goes_on(tmp_path):
    """A boot that cannot finish within its timeout: INTERRUPTED, its qemu gone, next test runs."""
    import dataclasses

    job_id = f"guestwd{int(time.time() * 1000) % 10**8}"
    boot = demo_boot_test("q1")
    slow = dataclasses.replace(boot, params={**boot.params, "timeout": "1.5"})
    plan = write_plan(tmp_path / "plan.json", [queue("q1", slow, sleep("a.next", 0))])
    r = tmp_path / "r"
    res = run_runner("--plan", str(plan), "--results", str(r), "--job-id", job_id,
                     "--grace", "3", timeout=180)
    assert res.returncode == 1, res.stdout + res.stderr
    by = {t["shortname"]: t for t in results_of(r)["tests"]}
    assert by["boot"]["status"] == "INTERRUPTED" and by["boot"]["fail_class"] == "TestTimeout"
    assert by["next"]["status"] == "PASS"
    assert job_processes(job_id) == []
    job_log = (r / "job.log").read_text()
    assert "timed out after 1.5 s" in job_log
