"""A job: all queues of this host run concurrently, one pipeline thread each.

``run_job`` is the library entry point the CLI calls; ``resume_job`` finishes
a stopped or crashed job from its results directory alone (plan.json holds
the planned tests, results.json what already has a final status).

Results directory layout (see docs/results.md)::

    job.log  plan.json  results.json  results.xml  env/<env>.json
    tests/<host>-<queue>/<n>-<shortname>[.<attempt>]/debug.log (+ console logs)
"""

from __future__ import annotations

import logging
import math
import os
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence

from kvmtest import exitcodes
from kvmtest.fsutil import detach_stdout
from kvmtest.plan.model import QueuePlan
from kvmtest.report.writer import job_writers
from kvmtest.results.latest import job_dir, point_latest
from kvmtest.results.records import JobInfo
from kvmtest.results.store import JOB_LOG, PLAN_JSON, ResultsFile
from kvmtest.results.summary import all_passed, format_summary
from kvmtest.results.writers import ResultsStore, ResultWriter
from kvmtest.run.attempts import (
    FINISHED,
    INFRA_RUN,
    INTERRUPTED_RUN,
    account_for_killed_run,
)
from kvmtest.run.faults import Fault, InfraError, QuietFileHandler, is_machine_fault
from kvmtest.run.jobdir import check_outputs, lock_results_dir, open_job
from kvmtest.run.pipeline import (
    Backend,
    JobRuntime,
    ProgressEvent,
    RunOptions,
    default_backend,
    format_event,
    run_queue,
)
from kvmtest.run.planfile import save_plan
from kvmtest.run.preflight import check_tests
from kvmtest.run.signals import StopOnSignals
from kvmtest.vm.hostfacts import host_facts
from kvmtest.vm.orphans import reap_orphans, register_runner, unregister_runner
from kvmtest.vm.reaper import ENV_JOB, ENV_RUNNER, runner_mark
from kvmtest.vm.sockdir import remove_workdir

log = logging.getLogger("kvmtest.run")

@dataclass
class JobSummary:
    """What the CLI needs after a job: where, what happened, which exit code."""

    results_dir: Path
    results: ResultsFile
    text: str  # the printed summary table
    interrupted: Optional[str] = None  # signal name (or "stopped") when the run was cut short
    abandoned: List[str] = field(default_factory=list)  # ids of tests whose thread never returned
    crashed: List[str] = field(default_factory=list)  # queues whose pipeline died of a runner bug
    infra_error: Optional[str] = None  # the fault that stopped the job (disk full, a crashed queue)

    def print(self) -> None:
        """What ``./run.py`` shows at the end: the table, and the fault that stopped the job."""
        print(self.text, flush=True)
        if self.infra_error:
            print(f"kvmtest: error: {self.infra_error}; the job was stopped, tests without"
                  " a final result are left for --resume", file=sys.stderr, flush=True)

    @property
    def passed(self) -> bool:
        return (self.interrupted is None and not self.crashed and self.infra_error is None
                and all_passed(self.results))

    @property
    def exit_code(self) -> int:
        """The process exit code (docs/exit-codes.md): a signal wins, then a runner failure."""
        if self.interrupted:
            try:
                return exitcodes.interrupted(signal.Signals[self.interrupted])
            except KeyError:  # "stopped" by an embedding program: no signal number to report
                return exitcodes.TESTS_FAILED
        if self.crashed or self.infra_error:
            return exitcodes.INFRA
        return exitcodes.OK if self.passed else exitcodes.TESTS_FAILED


_PRINT_LOCK = threading.Lock()


def print_progress(ev: ProgressEvent) -> None:
    """One write per event under a lock: print() writes the text and the newline separately,
    which let another queue's line land in between (``...12 left[vm/2] START ...``)."""
    line = format_event(ev) + "\n"
    with _PRINT_LOCK:
        try:
            sys.stdout.write(line)
            sys.stdout.flush()
        except BrokenPipeError:  # the reader of stdout went away: the job goes on, unseen
            detach_stdout()


def resume_job(results_dir: Path, **kwargs) -> JobSummary:
    """Run the planned tests of ``results_dir`` that have no final status."""
    return run_job(None, results_dir, resume=True, **kwargs)


def run_job(queues: Optional[Sequence[QueuePlan]], results_dir: Path,
            job: Optional[JobInfo] = None, resume: bool = False,
            kcidb: Optional[Path] = None,
            progress: Optional[Callable[[ProgressEvent], None]] = None,
            options: Optional[RunOptions] = None, backend: Optional[Backend] = None,
            stop: Optional[threading.Event] = None,
            writers: Optional[Sequence[ResultWriter]] = None,
            tags: Optional[Dict[str, str]] = None) -> JobSummary:
    """Run ``queues`` (this host's) concurrently and write the results directory.

    With ``resume`` the plan comes from ``results_dir/plan.json`` (``queues``
    and ``job`` are ignored) and only tests without a final status run. A
    ``PlanError`` (bad dependency...) is raised before anything runs or is
    written. ``stop`` lets an embedding program stop the job like a signal.
    ``writers`` replaces the result formats (default: results.json, results.xml,
    and KCIDB when ``kcidb`` names a file); ``--resume`` reads results.json, so
    keep a ``JsonWriter`` in the list. ``tags`` (``{"kernel": "6.8-rc1"}``, see
    ``kvmtest.results.records.parse_tags``) are recorded in ``job.tags``; ``--resume`` keeps
    the job's own and ignores these.
    """
    options = options or RunOptions()
    if not math.isfinite(options.default_timeout) or options.default_timeout <= 0:
        raise ValueError(f"default timeout {options.default_timeout!r} must be a finite number > 0")
    results_dir = job_dir(results_dir)  # absolute logdirs whatever the cwd; results/latest followed
    dep_warnings: List[str] = []
    opened = open_job(queues, results_dir, job, resume, tags, kcidb, dep_warnings)  # nothing written yet
    queues, job, data, schedules, kcidb = (opened.queues, opened.job, opened.data, opened.schedules,
                                           opened.kcidb)
    if backend is None:  # kvmtest's own test types and guests: refuse what would ERROR anyway
        check_tests(scheduled.test for queue_schedule in schedules
                    for scheduled in queue_schedule.tests).raise_errors()
    check_outputs(results_dir, kcidb)  # found now, not when the last test has run
    lock = lock_results_dir(results_dir)
    try:
        if not resume:
            job.start = time.time()
            try:
                save_plan(results_dir / PLAN_JSON, job, queues)
            except OSError as exc:
                raise InfraError(f"cannot write {results_dir / PLAN_JSON}: {exc}") from None
        for stale in results_dir.glob(".*.tmp"):  # half-written by a run that was killed
            stale.unlink(missing_ok=True)
        if writers is None:
            writers = job_writers(results_dir, kcidb, history_file(options))
        store = ResultsStore(data, writers, options.snapshot_interval)
        return _run_locked(results_dir, job, store, schedules, resume, progress, options,
                           backend or default_backend(), stop or threading.Event(), dep_warnings)
    finally:
        lock.close()


def _run_locked(results_dir: Path, job: JobInfo, store: ResultsStore, schedules: list,
                resume: bool, progress: Optional[Callable[[ProgressEvent], None]],
                options: RunOptions, backend: Backend, stop: threading.Event,
                notes: Sequence[str] = ()) -> JobSummary:
    workdir = Path(options.workdir_base or tempfile.gettempdir()) / f"kvmtest-{job.job_id}"

    def on_fault(message: str) -> None:  # the first fault stops the job like a signal
        runtime.stop_reason = message
        stop.set()
        log.error("infrastructure failure, stopping the job: %s", message)

    record_host_facts(job, {queue_schedule.plan.hostname for queue_schedule in schedules})
    runtime = JobRuntime(job_id=job.job_id, results_dir=results_dir, workdir=workdir, store=store,
                    backend=backend, options=options, progress=progress or print_progress,
                    total=sum(len(s.tests) for s in schedules), stop=stop,
                    fault=Fault(on_fault))
    store.on_error = lambda exc: _write_failed(runtime, exc)  # a snapshot, from its own thread
    killed_run = account_for_killed_run(results_dir, store.data, schedules) if resume else None
    run_info: Dict[str, Any] = {"start": time.time(), "end": None, "resume": resume, "pid": os.getpid(),
                "tests": runtime.total, "interrupted": None, "ended": None}
    job.runs.append(run_info)
    job.end = None
    job.interrupted = None

    with JobLogging(results_dir / JOB_LOG, runtime.fault), _MarkedChildren(job.job_id):
        for note in notes:
            log.info("%s", note)
        log.info("job %s %s: %d queue(s), %d test(s) to run, results in %s",
                 job.job_id, "resumed" if resume else "started", len(schedules), runtime.total,
                 results_dir)
        point_latest(results_dir)  # a running job is results/latest
        if killed_run is not None:
            log.warning("the previous run (pid %s) was killed; tests it was running are"
                        " INTERRUPTED (RunnerKilled) and run again", killed_run.get("pid"))
        _reap_orphans()  # guests, namespaces, work dirs of any job whose runner was killed
        register_runner(job.job_id, results_dir, workdir)
        if resume:
            _kill_all(backend, job.job_id)  # guests a crashed run may have left behind
        _write(runtime, store.open)
        sigs = StopOnSignals(stop, runtime.hurry) if options.handle_signals else None

        def reason(name: str) -> None:
            runtime.stop_reason = f"{name} received"

        if sigs is not None:
            sigs.on_stop = reason
            sigs.__enter__()
        try:
            if not runtime.fault:
                _run_pipelines(runtime, schedules)
        finally:
            if sigs is not None:
                sigs.__exit__(None, None, None)
            interrupted = (sigs.received if sigs is not None else None) or (
                "stopped" if stop.is_set() and not runtime.fault else None)
            _kill_all(backend, job.job_id)
            remove_workdir(workdir)  # (and the queues' short socket dirs)
            unregister_runner(job.job_id)
            run_info["end"] = job.end = time.time()
            run_info["interrupted"] = job.interrupted = interrupted
            run_info["error"] = runtime.fault.message
            run_info["ended"] = (INFRA_RUN if runtime.fault or runtime.crashed
                                 else INTERRUPTED_RUN if interrupted else FINISHED)
            _write(runtime, store.close)  # every writer; results.json retried if it failed before
            text = format_summary(store.data, results_dir)
            for line in text.splitlines():
                log.info("%s", line)
            if runtime.abandoned:
                log.warning("test thread(s) abandoned: %s", ", ".join(runtime.abandoned))
            if runtime.crashed:
                log.error("pipeline(s) crashed, their remaining tests did not run: %s",
                          ", ".join(runtime.crashed))
            log.info("job %s %s", job.job_id,
                     f"interrupted ({interrupted})" if interrupted else "finished")
            index_history(results_dir, options)
    summary = JobSummary(results_dir, store.data, text, interrupted, list(runtime.abandoned),
                         list(runtime.crashed), runtime.fault.message)
    if options.print_summary:
        summary.print()
    return summary


def record_host_facts(job: JobInfo, hosts: Iterable[str],
                      facts: Optional[Dict[str, str]] = None) -> None:
    """``job.hosts[h]`` = this machine's facts (or ``facts``) for each planned host ``h`` it runs:
    every result then resolves to the kernel, qemu and CPU it ran on. A run replaces its hosts'."""
    facts = facts if facts is not None else host_facts()
    for host in sorted(hosts):
        job.hosts[host] = dict(facts)


def history_file(options: RunOptions) -> Optional[Path]:
    """The history file the job indexes itself into (None with ``history=False``); its
    report.html draws the failures' history strips from it."""
    if not options.history:
        return None
    from kvmtest.paths import history_path

    return options.history_path or history_path()


def index_history(results_dir: Path, options: RunOptions) -> None:
    """Import the results directory into the history (``options.history``). Never fails the
    job: the results directory is the source of truth, a failed import is one warning."""
    if not options.history:
        return
    try:
        from kvmtest.history import HistoryStore

        with HistoryStore(options.history_path) as history:
            history.import_dir(results_dir)
        log.debug("indexed %s in the history %s", results_dir, history.path)
    except Exception as exc:  # a broken or locked index must not cost the job's exit status
        logging.getLogger("kvmtest.history").warning(
            "history: could not index %s (%s: %s); the results are complete, retry with"
            " 'kvmtest history import %s'", results_dir, type(exc).__name__, exc, results_dir)


def _reap_orphans() -> None:
    try:
        reap_orphans()  # logs each thing it reaped (the CLI shows those lines)
    except Exception as exc:  # someone else's leftovers must not stop this job
        log.error("reaping leftovers of killed runners failed: %s", exc)


def _write_failed(runtime: JobRuntime, exc: BaseException) -> None:
    if isinstance(exc, OSError):
        runtime.fault.report(f"cannot write the results in {runtime.results_dir}: {exc}")
    else:
        log.error("writing a results snapshot failed: %s: %s", type(exc).__name__, exc)


def _write(runtime: JobRuntime, write: Callable[[], None]) -> None:
    """A write into the results directory whose failure is a fault of the job, not a crash."""
    try:
        write()
    except OSError as exc:
        runtime.fault.report(f"cannot write the results in {runtime.results_dir}: {exc}")


def _run_pipelines(runtime: JobRuntime, schedules) -> None:
    threads = []
    for queue_schedule in schedules:
        t = threading.Thread(target=_pipeline_main, args=(runtime, queue_schedule), daemon=True,
                             name=f"queue-{queue_schedule.key}")
        threads.append(t)
        t.start()
    period = runtime.options.heartbeat
    tick = min(0.2, period / 4) if period > 0 else 0.2
    for t in threads:
        while t.is_alive():
            t.join(tick)  # short joins keep the main thread responsive to signals
            if period > 0:
                runtime.heartbeats()


def _pipeline_main(runtime: JobRuntime, queue_schedule) -> None:
    try:
        run_queue(runtime, queue_schedule)
    except Exception as exc:
        log.exception("[%s] pipeline crashed", queue_schedule.key)
        runtime.crashed.append(queue_schedule.key)
        if is_machine_fault(exc):  # the disk, not a bug of this queue: every queue would hit it
            runtime.fault.report(f"queue {queue_schedule.key}: {exc}")


def _kill_all(backend: Backend, job_id: str) -> None:
    try:
        if backend.kill_guests(job_id, None, signal.SIGTERM):
            backend.kill_guests(job_id, None, signal.SIGKILL)
    except Exception as exc:
        log.error("killing the job's guests failed: %s", exc)


class _MarkedChildren:
    """Mark every process the job starts with KVMTEST_JOB, as guests are.

    Then ``kill_guests(job_id)`` at the end, on a signal, and when ``--resume``
    follows a crash also finds what test code started outside a guest
    (host_cmd children, helpers a hung test left behind).
    """

    def __init__(self, job_id: str) -> None:
        self.marks = {ENV_JOB: job_id, ENV_RUNNER: runner_mark()}  # runner: see vm/orphans.py
        self.before: dict = {}

    def __enter__(self) -> _MarkedChildren:
        self.before = {k: os.environ.get(k) for k in self.marks}
        os.environ.update(self.marks)
        return self

    def __exit__(self, *exc: object) -> None:
        for key, value in self.before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class JobLogging:
    """job.log gets every kvmtest record (DEBUG and up) while the job runs."""

    def __init__(self, path: Path, fault: Fault) -> None:
        self.path = path
        self.fault = fault
        self.logger = logging.getLogger("kvmtest")
        self.handler: Optional[logging.Handler] = None
        self.level = logging.NOTSET

    def __enter__(self) -> JobLogging:
        self.handler = QuietFileHandler(str(self.path), self.fault)
        self.handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)-5s [%(threadName)s] %(name)s: %(message)s"))
        self.level = self.logger.level
        self.logger.setLevel(logging.DEBUG)
        self.logger.addHandler(self.handler)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.handler is not None
        self.logger.removeHandler(self.handler)
        self.handler.close()
        self.logger.setLevel(self.level)
