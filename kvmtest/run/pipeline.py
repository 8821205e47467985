"""One queue's pipeline: its tests one after another, each under a watchdog.

Everything the pipelines of a job share lives in ``JobRuntime`` (results
store, stop flag, progress counter); everything that touches guests goes
through ``Backend`` so the pipeline itself knows nothing of qemu.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from kvmtest.plan.estimate import DEFAULT_TIMEOUT  # (the estimate of a never-run test, too)
from kvmtest.plan.model import QueuePlan
from kvmtest.plan.names import check_timeout, env_file_name
from kvmtest.results.records import (
    DEP_CLASS,
    ERROR,
    INTERRUPTED,
    PASS,
    SKIP,
    STOPPED_CLASS,
    TIMEOUT_CLASS,
    TestResult,
    short_reason,  # (here for the progress lines; also re-exported: tests import it from here)
)
from kvmtest.results.writers import SNAPSHOT_INTERVAL, ResultsStore
from kvmtest.run.attempts import logdir_for, next_attempt
from kvmtest.run.faults import INFRA_CLASS, Fault, QuietFileHandler, is_machine_fault
from kvmtest.run.schedule import QueueSchedule, ScheduledTest, safe_name
from kvmtest.run.watchdog import Outcome, Watchdog, worker_name
from kvmtest.vm.context import TestContext

log = logging.getLogger("kvmtest.run")



@dataclass
class Backend:
    """The runner's only edges to guests: load an env, execute a test, kill guests."""

    load_env: Callable[[Path], Any]
    execute: Callable[[TestContext, Any], None]
    kill_guests: Callable[[str, Optional[str], int], int]


def default_backend() -> Backend:
    """kvmtest's own test types and guest killer (imported late: they pull in qemu code)."""
    from kvmtest.testtypes import execute
    from kvmtest.vm.env import Env
    from kvmtest.vm.reaper import kill_guests

    return Backend(load_env=Env.load, execute=execute, kill_guests=kill_guests)


@dataclass
class RunOptions:
    default_timeout: float = DEFAULT_TIMEOUT  # used when a test has no ``timeout`` param
    grace: float = 10.0  # SIGTERM -> SIGKILL of a stopped test's guests
    abandon_after: float = 5.0  # SIGKILL -> give up on the test thread
    handle_signals: bool = True  # install SIGINT/SIGTERM handlers (main thread only)
    print_summary: bool = False  # the CLI prints JobSummary.text; a control file decides
    workdir_base: Optional[Path] = None  # default: $TMPDIR (short paths for unix sockets)
    # results.json/results.xml are rewritten at most this often (each result is journaled at once)
    snapshot_interval: float = SNAPSHOT_INTERVAL
    heartbeat: float = 60.0  # a test running this long gets a RUNNING line, again every period; 0: never
    history: bool = True  # index the results directory in the history when a run ends
    history_path: Optional[Path] = None  # the history file; default kvmtest.paths.history_path()


@dataclass
class ProgressEvent:
    """A test started, is still running (heartbeat) or ended; ``left`` counts this run's tests
    not yet ended."""

    kind: str  # "start", "running" or "end"
    queue: str  # "<host>/<queue>"
    test_id: str
    name: str
    elapsed: float  # seconds since the run started
    left: int
    status: Optional[str] = None
    duration: float = 0.0  # of the ended test, or so far for "running"
    fail_reason: Optional[str] = None


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def format_event(ev: ProgressEvent) -> str:
    """'[host/queue] PASS  2-boot (3.2 s) | elapsed 0:01:07, 5 left' (one line, always)."""
    short = ev.test_id.rsplit("/", 1)[-1]
    if ev.kind == "start":
        head = f"[{ev.queue}] START {short}"
    elif ev.kind == "running":
        head = f"[{ev.queue}] RUNNING {short} ({_clock(ev.duration)} so far)"
    else:
        head = f"[{ev.queue}] {ev.status:<5} {short} ({ev.duration:.1f} s)"
        if ev.fail_reason and ev.status != PASS:
            reason = short_reason(ev.fail_reason)
            if reason:
                head += f": {reason}"
    return f"{head} | elapsed {_clock(ev.elapsed)}, {ev.left} left"


@dataclass
class JobRuntime:
    """State shared by a job's pipelines."""

    job_id: str
    results_dir: Path
    workdir: Path
    store: ResultsStore
    backend: Backend
    options: RunOptions
    progress: Callable[[ProgressEvent], None]
    total: int
    stop: threading.Event = field(default_factory=threading.Event)
    hurry: threading.Event = field(default_factory=threading.Event)
    stop_reason: str = "job interrupted"
    t0: float = field(default_factory=time.monotonic)
    abandoned: List[str] = field(default_factory=list)
    crashed: List[str] = field(default_factory=list)  # queue keys whose pipeline raised
    fault: Fault = field(default_factory=Fault)  # the first infrastructure failure (disk full...)
    _ended: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # test id -> (queue key, name, monotonic start, monotonic time of the last line about it)
    _running: Dict[str, List[Any]] = field(default_factory=dict)
    _emit_lock: threading.Lock = field(default_factory=threading.Lock)

    def ended_one(self) -> int:
        with self._lock:
            self._ended += 1
            return self.total - self._ended

    def left(self) -> int:
        with self._lock:
            return self.total - self._ended

    def emit(self, ev: ProgressEvent) -> None:
        """One event, one line: serialised so the queues' lines never mix."""
        with self._emit_lock:
            log.info("%s", format_event(ev))
            try:
                self.progress(ev)
            except Exception as exc:  # a broken progress printer must not kill a queue
                log.error("progress callback failed: %s", exc)

    def started(self, test_id: str, queue: str, name: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._running[test_id] = [queue, name, now, now]

    def stopped(self, test_id: str) -> None:
        with self._lock:
            self._running.pop(test_id, None)

    def heartbeats(self) -> None:
        """A RUNNING event for each test silent for ``options.heartbeat`` seconds."""
        period = self.options.heartbeat
        now = time.monotonic()
        due = []
        with self._lock:
            for test_id, run in self._running.items():
                if now - run[3] >= period:
                    run[3] = now
                    due.append((test_id, run[0], run[1], now - run[2]))
            left = self.total - self._ended
        for test_id, queue, name, so_far in due:
            self.emit(ProgressEvent("running", queue, test_id, name, now - self.t0, left,
                                    duration=so_far))


def env_path(runtime: JobRuntime, plan: QueuePlan) -> Path:
    """The queue's env file, always inside <results>/env/ (an env is a name, never a path)."""
    return runtime.results_dir / "env" / env_file_name(plan.env or f"env-{plan.queue}")


def test_logdir(runtime: JobRuntime, scheduled: ScheduledTest, attempt: int) -> Path:
    return logdir_for(runtime.results_dir, scheduled, attempt)


class _TestLogHandler(QuietFileHandler):
    """debug.log of one test: its own logger plus whatever its worker thread logs."""

    def __init__(self, path: Path, logger_name: str, thread_name: str, fault: Fault) -> None:
        super().__init__(str(path), fault)
        self.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)-5s %(name)s: %(message)s"))
        self.logger_name = logger_name
        self.thread_name = thread_name  # the watchdog names the worker "kvmtest-<test id>"

    def filter(self, record: logging.LogRecord) -> bool:
        return (record.name == self.logger_name or record.name.startswith(self.logger_name + ".")
                or record.threadName == self.thread_name)


def run_queue(runtime: JobRuntime, queue_schedule: QueueSchedule) -> None:
    """The pipeline thread's body: the queue's pending tests in plan order."""
    plan = queue_schedule.plan
    workdir = runtime.workdir / safe_name(f"{plan.hostname}-{plan.queue}")
    workdir.mkdir(parents=True, exist_ok=True)
    env_file = env_path(runtime, plan)
    env_file.parent.mkdir(parents=True, exist_ok=True)

    def kill(sig: int) -> int:
        return runtime.backend.kill_guests(runtime.job_id, plan.queue, sig)

    watchdog = Watchdog(kill=kill, grace=runtime.options.grace,
                        abandon_after=runtime.options.abandon_after, job_stop=runtime.stop,
                        hurry=runtime.hurry, stop_reason=lambda: runtime.stop_reason)
    env: Any = None
    env_error: Optional[str] = None
    try:
        for scheduled in queue_schedule.tests:
            if runtime.stop.is_set():
                break
            if env is None and env_error is None:
                try:
                    env = runtime.backend.load_env(env_file)
                except Exception as exc:
                    env_error = f"cannot load env file {env_file}: {type(exc).__name__}: {exc}"
                    log.error("[%s] %s", plan.key, env_error)
            outcome = _run_one(runtime, plan.key, scheduled, workdir, env, env_error, watchdog)
            if outcome.abandoned or outcome.fail_class in (TIMEOUT_CLASS, STOPPED_CLASS):
                env = None  # the stopped test may have left it half-updated: re-read the file
    finally:
        _close_queue(runtime, plan)


def _close_queue(runtime: JobRuntime, plan: QueuePlan) -> None:
    """Guests kept across tests (kill_vm = no) end with their queue."""
    try:
        if runtime.backend.kill_guests(runtime.job_id, plan.queue, signal.SIGTERM):
            runtime.backend.kill_guests(runtime.job_id, plan.queue, signal.SIGKILL)
    except Exception as exc:
        log.error("[%s] killing the queue's guests failed: %s", plan.key, exc)


def _run_one(runtime: JobRuntime, queue_key: str, scheduled: ScheduledTest, workdir: Path,
             env: Any, env_error: Optional[str], watchdog: Watchdog) -> Outcome:
    t = scheduled.test
    previous = runtime.store.result(scheduled.id)
    # never a directory an earlier attempt used, even one a killed runner left unrecorded
    known = [previous] if previous is not None else []
    attempt = next_attempt(runtime.results_dir, scheduled, known)
    logdir = test_logdir(runtime, scheduled, attempt)
    logger_name = "kvmtest.test." + safe_name(f"{t.hostname}.{t.queue}").replace(".", "_") \
        + f".{scheduled.index}"
    test_log = logging.getLogger(logger_name)
    try:
        logdir.mkdir(parents=True, exist_ok=True)
        handler = _TestLogHandler(logdir / "debug.log", logger_name, worker_name(scheduled.id),
                                  runtime.fault)
    except OSError as exc:  # the results directory is unwritable: the test is left for --resume
        runtime.fault.report(f"cannot create {logdir}: {exc}")
        return Outcome(INTERRUPTED, runtime.fault.message, INFRA_CLASS)
    logging.getLogger("kvmtest").addHandler(handler)
    start = time.time()
    runtime.emit(ProgressEvent("start", queue_key, scheduled.id, t.name,
                               time.monotonic() - runtime.t0, runtime.left()))
    runtime.started(scheduled.id, queue_key, t.name)
    test_log.info("test %s (%s) attempt %d, logdir %s", t.name, scheduled.id, attempt, logdir)
    try:
        try:
            outcome = _outcome(runtime, scheduled, workdir, env, env_error, watchdog, logdir,
                               test_log)
        except Exception as exc:  # a runner bug costs one test, never the queue
            log.exception("[%s] runner error in %s", queue_key, scheduled.id)
            outcome = Outcome(ERROR, f"runner error: {type(exc).__name__}: {exc}", "RunnerError")
        end = time.time()
        test_log.info("status %s%s", outcome.status,
                      f": {outcome.fail_reason}" if outcome.fail_reason else "")
        if is_machine_fault(outcome.exc):
            runtime.fault.report(f"test {scheduled.id} hit a storage error on this machine: "
                                 f"{outcome.exc}")
        if runtime.fault and outcome.status != INTERRUPTED:
            # the machine failed under the test (its logs or env file may be cut short):
            # not a verdict on the test, so not final; --resume runs it again
            said = f"{outcome.status}" + (f": {outcome.fail_reason}" if outcome.fail_reason else "")
            outcome = Outcome(INTERRUPTED, f"{runtime.fault.message} (test ended {said})",
                              INFRA_CLASS, outcome.abandoned)
    finally:
        runtime.stopped(scheduled.id)
        logging.getLogger("kvmtest").removeHandler(handler)
        handler.close()
    result = TestResult(
        id=scheduled.id, name=t.name, shortname=t.shortname, status=outcome.status,
        hostname=t.hostname, queue=t.queue, start=start, end=end,
        fail_reason=outcome.fail_reason, fail_class=outcome.fail_class,
        logdir=str(logdir.relative_to(runtime.results_dir)), addresses=list(t.addresses),
        attempt=attempt, accel=outcome.accel, metrics=list(outcome.metrics),
    )
    if outcome.abandoned:
        runtime.abandoned.append(scheduled.id)
    try:
        runtime.store.add(result)  # kept in memory even when the write fails
    except OSError as exc:
        runtime.fault.report(f"cannot write the results in {runtime.results_dir}: {exc}")
    left = runtime.ended_one()
    elapsed = time.monotonic() - runtime.t0
    runtime.emit(ProgressEvent("end", queue_key, scheduled.id, t.name, elapsed, left,
                               outcome.status, end - start, outcome.fail_reason))
    return outcome


def _outcome(runtime: JobRuntime, scheduled: ScheduledTest, workdir: Path, env: Any,
             env_error: Optional[str], watchdog: Watchdog, logdir: Path,
             test_log: logging.Logger) -> Outcome:
    t = scheduled.test
    for dep in scheduled.deps:
        status = runtime.store.status_of(dep)
        if status != PASS:
            reason = f"dependency {dep} {'is ' + status if status else 'has no result'}"
            test_log.info("skipped: %s", reason)
            return Outcome(SKIP, reason, DEP_CLASS)
    if env_error is not None:
        return Outcome(ERROR, env_error, "EnvError")
    raw = t.params.get("timeout", "")
    why = check_timeout(raw)  # the planner refuses these; a plan.json made elsewhere may not
    if why:
        return Outcome(ERROR, f"bad timeout param: {why}", "ParamError")
    timeout = float(raw) if raw.strip() else runtime.options.default_timeout
    ctx = TestContext(
        name=t.name, shortname=t.shortname, params=dict(t.params), logdir=logdir,
        workdir=workdir, job_id=runtime.job_id, hostname=t.hostname, queue=t.queue,
        addresses=list(t.addresses), log=test_log,
    )

    outcome = watchdog.run(lambda: runtime.backend.execute(ctx, env), timeout, ctx.stop,
                           name=scheduled.id, test_log=test_log)
    outcome.accel = ctx.accel
    outcome.metrics = list(ctx.metrics)
    return outcome

