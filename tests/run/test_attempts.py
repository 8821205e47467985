"""Attempts after a killed runner: each attempt keeps its own log directory, runs[] says how
each run ended.

A real runner process is SIGKILLed while a host command runs (it writes its own
output file in the test's log directory, as a guest's console log is), then
resumed: the killed attempt stays on disk untouched and in results.json as
INTERRUPTED (RunnerKilled, attempt 1); the rerun is attempt 2 in its own
directory; the killed run's entry in job.runs has an end time and ended=killed.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time

from tests.run.helpers import cmd, queue, run_runner, runner_cmd, runner_env, write_plan
from tests.run.test_integration import alive, job_processes
from tests.waiting import wait_for


def results_of(d):
    try:
        return json.loads((d / "results.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {"tests": []}


def test_killed_attempt_keeps_its_logs_and_the_rerun_is_attempt_2(tmp_path):
    release = tmp_path / "release"
    # the command's output lands in <logdir>/host_cmd.log: "console" of this attempt
    block = f"echo started $$; while [ ! -e {release} ]; do sleep 0.05; done; echo released"
    plan = write_plan(tmp_path / "in.json", [
        queue("q1", cmd("a.first", "echo first"), cmd("a.block", f"sh -c '{block}'"),
              cmd("a.last", "echo last")),
    ])
    r = tmp_path / "r"
    job_id = f"attempts{int(time.time() * 1000) % 10**8}"
    proc = subprocess.Popen(runner_cmd("--plan", str(plan), "--results", str(r), "--job-id", job_id),
                            env=runner_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    first_dir = r / "tests" / "localhost-q1" / "2-block"
    try:
        wait_for(lambda: "started" in _read(first_dir / "host_cmd.log"), "block to start")
        killed_pid = proc.pid
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    killed_console = (first_dir / "host_cmd.log").read_text()
    killed_debug = (first_dir / "debug.log").read_text()
    assert results_of(r)["job"]["runs"][0]["end"] is None  # what a SIGKILL leaves

    orphans = job_processes(job_id)  # the killed runner's host command still runs
    resume = subprocess.Popen(runner_cmd("--results", str(r), "--resume"), env=runner_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: not any(alive(p) for p in orphans), "the old host command to be killed")
        release.touch()
        out, err = resume.communicate(timeout=60)
    finally:
        if resume.poll() is None:
            resume.kill()
            resume.wait()
    assert resume.returncode == 0, out + err
    data = results_of(r)

    # the killed attempt's files are as it left them (plus the shell's "Terminated" when the
    # resume killed the orphan); the rerun wrote elsewhere
    old_console = (first_dir / "host_cmd.log").read_text()
    assert old_console.startswith(killed_console) and "released" not in old_console
    assert (first_dir / "debug.log").read_text() == killed_debug
    rerun_dir = r / "tests" / "localhost-q1" / "2-block.2"
    assert "released" in (rerun_dir / "host_cmd.log").read_text()

    block = next(t for t in data["tests"] if t["shortname"] == "block")
    assert (block["status"], block["attempt"], block["logdir"]) == \
        ("PASS", 2, "tests/localhost-q1/2-block.2")
    [old] = [t for t in data["superseded"] if t["shortname"] == "block"]
    assert (old["status"], old["fail_class"], old["attempt"], old["logdir"]) == \
        ("INTERRUPTED", "RunnerKilled", 1, "tests/localhost-q1/2-block")
    assert f"pid {killed_pid}" in old["fail_reason"]
    assert old["start"] <= old["end"] <= block["start"]
    # first was never rerun; last ran once, in the resume
    assert [(t["shortname"], t["attempt"]) for t in data["tests"]] == \
        [("first", 1), ("block", 2), ("last", 1)]

    killed_run, resumed_run = data["job"]["runs"]
    assert killed_run["ended"] == "killed" and killed_run["end"] is not None
    assert killed_run["start"] <= killed_run["end"] <= resumed_run["start"]
    assert resumed_run["ended"] == "finished" and resumed_run["end"] >= resumed_run["start"]


def test_runs_say_how_each_run_ended(tmp_path):
    """finished, interrupted (SIGTERM) and killed (SIGKILL), one run each."""
    release = tmp_path / "release"
    block = f"while [ ! -e {release} ]; do sleep 0.05; done"
    plan = write_plan(tmp_path / "in.json", [queue("q1", cmd("a.block", f"sh -c '{block}'"))])
    r = tmp_path / "r"
    for sig, args in ((signal.SIGTERM, ("--plan", str(plan))), (signal.SIGKILL, ("--resume",))):
        n = len(results_of(r)["tests"])
        proc = subprocess.Popen(runner_cmd("--results", str(r), *args, "--grace", "1"),
                                env=runner_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda n=n: len(list((r / "tests" / "localhost-q1").glob("1-block*"))) > n
                     and len(results_of(r)["job"]["runs"]) > n, "block to start")
            proc.send_signal(sig)
            proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    release.touch()
    assert run_runner("--results", str(r), "--resume").returncode == 0
    data = results_of(r)
    assert [run["ended"] for run in data["job"]["runs"]] == ["interrupted", "killed", "finished"]
    assert [run["interrupted"] for run in data["job"]["runs"]] == ["SIGTERM", None, None]
    assert [(t["attempt"], t["status"], t["fail_class"]) for t in data["superseded"]] == \
        [(1, "INTERRUPTED", "JobInterrupted"), (2, "INTERRUPTED", "RunnerKilled")]
    assert data["tests"][0]["attempt"] == 3 and data["tests"][0]["logdir"].endswith("1-block.3")


def _read(path):
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""
