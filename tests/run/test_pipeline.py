"""run_job in-process: deps at run time, env and param errors, logs, progress, stop.

Tests here execute through ``Backend`` so they can script what a test does
(the backend is the runner's edge to guests); everything else is real:
threads, results directory, files.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from kvmtest.results.store import load_results
from kvmtest.run import Backend, PlanError, RunOptions, new_job, run_job
from kvmtest.run.pipeline import ProgressEvent, format_event
from kvmtest.testtypes.errors import TestFail
from tests.run.helpers import REPO, ptest, queue, runner_cmd, runner_env, write_plan


class ScriptedBackend:
    """Runs ``params['do']`` from a table of callables; records kills and env loads."""

    def __init__(self, actions, env_error=None):
        self.actions = actions
        self.env_error = env_error
        self.kills = []
        self.loaded = []
        self.seen = {}

    def backend(self) -> Backend:
        return Backend(load_env=self.load_env, execute=self.execute, kill_guests=self.kill)

    def load_env(self, path):
        self.loaded.append(Path(path))
        if self.env_error:
            raise self.env_error
        return {"path": str(path)}

    def execute(self, ctx, env):
        self.seen[ctx.shortname] = ctx
        self.actions[ctx.params["do"]](ctx)

    def kill(self, job_id, queue, sig):
        self.kills.append((job_id, queue, sig))
        return 0


def opts(**kw):
    base = dict(handle_signals=False, print_summary=False, grace=5, abandon_after=5)
    base.update(kw)
    return RunOptions(**base)


def t(name, queue_name="q1", **params):
    return ptest(name, queue_name, **params)


def run(queues, tmp_path, backend, events=None, **kw):
    return run_job(queues, tmp_path / "r", new_job("unit", ["x"]),
                   progress=(events.append if events is not None else lambda e: None),
                   options=opts(**kw), backend=backend.backend())


def test_dependency_chain_skips_transitively_and_passes_through(tmp_path):
    def fail(ctx):
        raise TestFail("no")

    b = ScriptedBackend({"ok": lambda ctx: None, "fail": fail})
    queues = [queue("q1", t("a.base", do="fail"), t("a.mid", dep=["base"], do="ok"),
                    t("a.top", dep=["mid"], do="ok"), t("a.free", do="ok"),
                    t("a.onfree", dep=["free"], do="ok"))]
    s = run(queues, tmp_path, b)
    st = {r.shortname: (r.status, r.fail_reason) for r in s.results.tests}
    assert st["base"][0] == "FAIL"
    assert st["mid"] == ("SKIP", "dependency localhost/q1/1-base is FAIL")
    assert st["top"] == ("SKIP", "dependency localhost/q1/2-mid is SKIP")
    assert st["onfree"][0] == "PASS"
    assert set(b.seen) == {"base", "free", "onfree"}  # skipped tests never executed


def test_context_has_what_the_test_needs(tmp_path):
    b = ScriptedBackend({"ok": lambda ctx: None})
    test = t("a.x", do="ok")
    from kvmtest.plan.model import Address

    test.addresses = [Address("vm1", "nic1", "02:00:00:00:00:01", "10.0.0.2", "r0")]
    s = run([queue("q1", test)], tmp_path, b)
    ctx = b.seen["x"]
    assert ctx.job_id == s.results.job.job_id and ctx.queue == "q1"
    assert ctx.logdir == s.results_dir / s.results.tests[0].logdir
    assert ctx.address("vm1", "nic1").ip == "10.0.0.2"
    assert s.results.tests[0].addresses == test.addresses
    assert b.loaded == [s.results_dir / "env" / "env-q1.json"]


def test_env_load_failure_is_an_error_for_every_test_of_that_queue_only(tmp_path):
    b = ScriptedBackend({"ok": lambda ctx: None}, env_error=ValueError("corrupt"))
    s = run([queue("q1", t("a.x", do="ok"), t("a.y", do="ok"))], tmp_path, b)
    assert [(r.status, r.fail_class) for r in s.results.tests] == [("ERROR", "EnvError")] * 2
    assert "corrupt" in s.results.tests[0].fail_reason


@pytest.mark.parametrize("value", ["abc", "0", "-3"])
def test_bad_timeout_param_is_an_error_not_a_crash(tmp_path, value):
    b = ScriptedBackend({"ok": lambda ctx: None})
    s = run([queue("q1", t("a.x", do="ok", timeout=value), t("a.y", do="ok"))], tmp_path, b)
    assert [r.status for r in s.results.tests] == ["ERROR", "PASS"]
    assert s.results.tests[0].fail_class == "ParamError"


def test_default_timeout_applies_without_a_param(tmp_path):
    b = ScriptedBackend({"wait": lambda ctx: ctx.stop.wait(60)})
    s = run([queue("q1", t("a.x", do="wait"))], tmp_path, b, default_timeout=0.2)
    assert s.results.tests[0].status == "INTERRUPTED"
    assert s.results.tests[0].fail_reason.startswith("timed out after 0.2 s")
    assert (s.results.job.job_id, "q1", signal.SIGTERM) in b.kills


def test_debug_logs_hold_only_their_own_test(tmp_path):
    """Two queues log at the same time; each debug.log gets its test's lines only."""
    barrier = threading.Barrier(2, timeout=30)

    def chatty(ctx):
        barrier.wait()
        for i in range(20):
            ctx.log.info("line %d from %s", i, ctx.shortname)
            logging.getLogger("kvmtest.vm.fake").info("vm layer line from %s", ctx.shortname)

    b = ScriptedBackend({"chat": chatty})
    s = run([queue("q1", t("a.one", do="chat")), queue("q2", t("b.two", "q2", do="chat"))],
            tmp_path, b)
    for r in s.results.tests:
        other = "two" if r.shortname == "one" else "one"
        text = (s.results_dir / r.logdir / "debug.log").read_text()
        assert f"line 19 from {r.shortname}" in text
        assert f"vm layer line from {r.shortname}" in text
        assert f"from {other}" not in text
    job_log = (s.results_dir / "job.log").read_text()
    assert "line 19 from one" in job_log and "line 19 from two" in job_log


def test_progress_events_count_down(tmp_path):
    events: list = []
    b = ScriptedBackend({"ok": lambda ctx: None})
    run([queue("q1", t("a.x", do="ok"), t("a.y", do="ok")), queue("q2", t("b.z", "q2", do="ok"))],
        tmp_path, b, events)
    ends = [e for e in events if e.kind == "end"]
    assert len(ends) == 3 and sorted(e.left for e in ends) == [0, 1, 2]
    assert all(e.status == "PASS" for e in ends)
    line = format_event(ends[-1])
    assert line.startswith(f"[{ends[-1].queue}] PASS") and line.endswith("0 left")


def test_format_event_shows_reason_for_failures():
    ev = ProgressEvent("end", "h/q1", "h/q1/3-boot", "x.boot", 65.0, 4, "FAIL", 2.25,
                       "guest said no\nmore")
    assert format_event(ev) == \
        "[h/q1] FAIL  3-boot (2.2 s): guest said no | elapsed 0:01:05, 4 left"


def test_a_runner_bug_in_a_test_costs_that_test_only(tmp_path, monkeypatch):
    import kvmtest.run.pipeline as pl

    real = pl._outcome

    def flaky(runtime, scheduled, *a, **kw):
        if scheduled.test.shortname == "x":
            raise RuntimeError("bug")
        return real(runtime, scheduled, *a, **kw)

    monkeypatch.setattr(pl, "_outcome", flaky)
    b = ScriptedBackend({"ok": lambda ctx: None})
    s = run([queue("q1", t("a.x", do="ok"), t("a.y", do="ok"))], tmp_path, b)
    assert [r.status for r in s.results.tests] == ["ERROR", "PASS"]
    assert s.results.tests[0].fail_reason == "runner error: RuntimeError: bug"


def test_external_stop_interrupts_and_leaves_the_rest_pending(tmp_path):
    stop = threading.Event()

    def first(ctx):
        stop.set()
        ctx.stop.wait(60)

    b = ScriptedBackend({"first": first, "ok": lambda ctx: None})
    s = run_job([queue("q1", t("a.x", do="first"), t("a.y", do="ok"))], tmp_path / "r",
                new_job("unit"), progress=lambda e: None, options=opts(), backend=b.backend(),
                stop=stop)
    assert s.interrupted == "stopped" and s.exit_code == 1
    assert [(r.shortname, r.status) for r in s.results.tests] == [("x", "INTERRUPTED")]
    assert json.loads((s.results_dir / "results.json").read_text())["pending"] == 2
    assert any(k[1] is None for k in b.kills)  # the whole job's guests were killed at the end


def test_plan_error_writes_nothing(tmp_path):
    b = ScriptedBackend({"ok": lambda ctx: None})
    with pytest.raises(PlanError):
        run([queue("q1", t("a.x", dep=["y"], do="ok"), t("a.y", do="ok"))], tmp_path, b)
    assert not (tmp_path / "r").exists() and b.seen == {}


def test_all_pass_exit_code_and_resume_with_nothing_to_do(tmp_path):
    b = ScriptedBackend({"ok": lambda ctx: None})
    s = run([queue("q1", t("a.x", do="ok"))], tmp_path, b)
    assert s.passed and s.exit_code == 0
    again = run_job(None, s.results_dir, resume=True, progress=lambda e: None, options=opts(),
                    backend=b.backend())
    assert again.exit_code == 0 and len(load_results(s.results_dir).job.runs) == 2


def test_second_signal_cuts_grace_short(tmp_path):
    """A test that ignores its stop flag, a one-hour grace: the second SIGTERM ends it now."""
    plan = write_plan(tmp_path / "plan.json", [
        queue("q1", ptest("a.hang", "q1", type="hang",
                          test_dirs=str(Path(__file__).parent / "types")))])
    proc = subprocess.Popen(runner_cmd("--plan", str(plan), "--results", str(tmp_path / "r"),
                                       "--grace", "3600", "--abandon-after", "3600"),
                            env=runner_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=REPO)
    try:
        debug = tmp_path / "r" / "tests" / "localhost-q1" / "1-hang" / "debug.log"
        end = time.monotonic() + 60
        while not (debug.exists() and "hanging on purpose" in debug.read_text()):
            assert time.monotonic() < end and proc.poll() is None
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        err_seen = ""
        while "received" not in err_seen:  # wait for the first signal to be handled
            time.sleep(0.05)
            err_seen = (tmp_path / "r" / "job.log").read_text()
            assert time.monotonic() < end + 60
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)  # without the second signal: an hour
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM
    assert "again" in err
    r = load_results(tmp_path / "r").tests[0]
    assert r.status == "INTERRUPTED" and "abandoned" in r.fail_reason


def test_one_run_per_results_dir(tmp_path):
    started, release = threading.Event(), threading.Event()

    def block(ctx):
        started.set()
        release.wait(60)

    b = ScriptedBackend({"block": block})
    first = threading.Thread(target=run, args=([queue("q1", t("a.x", do="block"))], tmp_path, b))
    first.start()
    try:
        assert started.wait(60)
        with pytest.raises(FileExistsError, match="another kvmtest run"):
            run_job(None, tmp_path / "r", resume=True, progress=lambda e: None, options=opts(),
                    backend=b.backend())
    finally:
        release.set()
        first.join(60)
    assert load_results(tmp_path / "r").tests[0].status == "PASS"


def test_run_job_feeds_every_result_to_its_writers(tmp_path):
    """A format the job does not know: it sees open, each test, close (also on resume)."""
    from kvmtest.results.writers import JsonWriter, ResultWriter

    calls = []

    class Recorder(ResultWriter):
        def open(self, data):
            calls.append("open")

        def test_finished(self, data, result):
            calls.append(result.shortname)

        def close(self, data):
            calls.append(f"close {data.job.end is not None}")

    b = ScriptedBackend({"ok": lambda ctx: None})
    rdir = tmp_path / "r"
    s = run_job([queue("q1", t("a.x", do="ok"), t("a.y", do="ok"))], rdir, new_job("unit"),
                progress=lambda e: None, options=opts(), backend=b.backend(),
                writers=[JsonWriter(rdir), Recorder()])
    assert s.exit_code == 0 and calls == ["open", "x", "y", "close True"]
    assert not (rdir / "results.xml").exists()  # the writers given replace the defaults
    calls.clear()
    run_job(None, rdir, resume=True, progress=lambda e: None, options=opts(),
            backend=b.backend(), writers=[JsonWriter(rdir), Recorder()])
    assert calls == ["open", "close True"]


def test_exit_codes_name_what_happened(tmp_path, monkeypatch):
    """OK, TESTS_FAILED, and INFRA when a queue's pipeline itself dies (its tests never ran)."""
    import kvmtest.run.job as job_mod
    from kvmtest import exitcodes

    def fail(ctx):
        raise TestFail("no")

    b = ScriptedBackend({"ok": lambda ctx: None, "fail": fail})
    assert run([queue("q1", t("a.x", do="ok"))], tmp_path / "1", b).exit_code == exitcodes.OK
    s = run([queue("q1", t("a.x", do="fail"))], tmp_path / "2", b)
    assert s.exit_code == exitcodes.TESTS_FAILED

    real = job_mod.run_queue

    def broken(runtime, queue_schedule):
        if queue_schedule.key.endswith("q2"):
            raise RuntimeError("scheduler bug")
        return real(runtime, queue_schedule)

    monkeypatch.setattr(job_mod, "run_queue", broken)
    s = run([queue("q1", t("a.x", do="ok")), queue("q2", t("b.x", "q2", do="ok"))],
            tmp_path / "3", b)
    assert [r.shortname for r in s.results.tests] == ["x"]  # q1 ran, q2's test never did
    assert s.crashed == ["localhost/q2"] and s.exit_code == exitcodes.INFRA


def test_accel_and_metrics_of_the_context_reach_the_result_and_tags_the_job(tmp_path):
    from kvmtest.results.records import Metric

    def measure(ctx):
        ctx.note_accel("tcg")
        ctx.note_accel("kvm")
        ctx.note_accel("tcg")
        ctx.metrics.append(Metric("bw", 812.5, "MB/s", "higher"))

    def fail_after_boot(ctx):
        ctx.note_accel("tcg")
        raise TestFail("after boot")

    b = ScriptedBackend({"m": measure, "f": fail_after_boot, "ok": lambda ctx: None})
    queues = [queue("q1", t("a.m", do="m"), t("a.f", do="f"), t("a.ok", do="ok"))]
    s = run_job(queues, tmp_path / "r", new_job("unit", ["x"]), progress=lambda e: None,
                options=opts(), backend=b.backend(), tags={"kernel": "6.8-rc1"})
    got = {r.shortname: (r.accel, r.metrics) for r in load_results(s.results_dir).tests}
    assert got == {"m": ("kvm,tcg", [Metric("bw", 812.5, "MB/s", "higher")]),
                   "f": ("tcg", []), "ok": (None, [])}
    job = load_results(s.results_dir).job
    assert job.tags == {"kernel": "6.8-rc1"}
    assert job.hosts["localhost"]["kernel"] == os.uname().release
