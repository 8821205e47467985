"""What runs inside each host's Dask worker: queue tasks, log fetches, stop, the host plugin.

A queue task is today's ``run_queue`` with a host-side ``JobRuntime``: its results go to a
host-local staging directory *and*, test by test, to the coordinator as structured events
(``Worker.log_event``); the coordinator copies the logs back with ``pack_logdir``. Nothing here
retries or re-runs: a task that dies with its host is the coordinator's to report.

Everything a function sends or returns is plain JSON-able data (msgpack for events).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import signal
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from distributed import get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from kvmtest.results.records import JobInfo, TestResult
from kvmtest.results.store import ResultsFile
from kvmtest.results.writers import ResultsStore, ResultWriter
from kvmtest.run.attempts import attempts_on_disk
from kvmtest.run.pipeline import JobRuntime, ProgressEvent, RunOptions, default_backend, run_queue
from kvmtest.run.schedule import QueueSchedule, safe_name
from kvmtest.vm.hostfacts import host_facts
from kvmtest.vm.reaper import ENV_JOB, ENV_RUNNER, runner_mark

log = logging.getLogger("kvmtest.cluster")

PLUGIN_NAME = "kvmtest-host"


def resource_name(host: str) -> str:
    """The Dask resource that pins a task to ``host`` (a name restriction would not: see docs)."""
    return f"kvmhost-{host}"


def topic(job_id: str) -> str:
    return f"kvmtest-{job_id}"


def host_job_id(job_id: str, host: str) -> str:
    """The id guests and children are marked with on ``host``: unique per (job, host).

    Two hosts of one job may share a machine (tests, demos); a host's cleanup must never
    touch the other's guests.
    """
    return f"{job_id}.{safe_name(host)}"


@dataclass
class QueueTask:
    """What the coordinator sends for one (host, queue)."""

    job_id: str
    schedule: QueueSchedule
    prior: List[Dict[str, Any]] = field(default_factory=list)  # this queue's earlier results
    options: RunOptions = field(default_factory=RunOptions)
    run: int = 1  # 1 for the first start, +1 per --resume


@dataclass
class _HostJob:
    job_id: str
    host: str
    dir: Path
    stop: threading.Event = field(default_factory=threading.Event)
    hurry: threading.Event = field(default_factory=threading.Event)
    reason: str = "job interrupted"
    running: Dict[str, int] = field(default_factory=dict)  # queue key -> thread ident
    runtimes: Dict[str, JobRuntime] = field(default_factory=dict)

    def set_reason(self, reason: str) -> None:
        """The INTERRUPTED reason the watchdogs write (read when they stop a test)."""
        self.reason = reason
        for runtime in list(self.runtimes.values()):
            runtime.stop_reason = reason

    @property
    def marker(self) -> str:
        return host_job_id(self.job_id, self.host)


class KvmHostPlugin(WorkerPlugin):
    """kvmtest's part of a worker: per-job state, leftovers reaped, guests killed on teardown."""

    name = PLUGIN_NAME

    def __init__(self, base_dir: Optional[str] = None) -> None:
        self.base_dir = Path(base_dir) if base_dir else None
        self.host = ""
        self.jobs: Dict[str, _HostJob] = {}
        self.lock = threading.Lock()
        self._marks = 0

    def setup(self, worker) -> None:
        self.host = str(worker.name)
        if self.base_dir is None:
            self.base_dir = Path(tempfile.gettempdir()) / f"kvmtest-worker-{safe_name(self.host)}"
        self.base_dir.mkdir(parents=True, exist_ok=True)
        # a worker killed mid-job (OOM, SIGKILL) leaves its guests and children running
        for d in sorted(self.base_dir.iterdir()):
            if d.is_dir():
                kill_marked(host_job_id(d.name, self.host))

    def teardown(self, worker) -> None:
        """Lost scheduler or worker stopping: stop every pipeline and kill the guests."""
        with self.lock:
            jobs = list(self.jobs.values())
        for hj in jobs:
            hj.set_reason(f"worker {self.host} stopped")
            hj.stop.set()
            hj.hurry.set()
            kill_marked(hj.marker)

    def job(self, job_id: str) -> _HostJob:
        with self.lock:
            hj = self.jobs.get(job_id)
            if hj is None:
                assert self.base_dir is not None
                hj = self.jobs[job_id] = _HostJob(job_id, self.host,
                                                  self.base_dir / safe_name(job_id))
                hj.dir.mkdir(parents=True, exist_ok=True)
            return hj

    def mark(self, marker: str, on: bool) -> None:
        """The job's marks in this process's environment while queues run (children inherit
        them, so host commands are found and killed like guests; see kvmtest/vm/orphans.py)."""
        with self.lock:
            self._marks += 1 if on else -1
            if on:
                os.environ[ENV_JOB] = marker
                os.environ[ENV_RUNNER] = runner_mark()
            elif self._marks <= 0:
                os.environ.pop(ENV_JOB, None)
                os.environ.pop(ENV_RUNNER, None)


def _plugin(worker=None) -> KvmHostPlugin:
    worker = worker or get_worker()
    plugin = worker.plugins.get(PLUGIN_NAME)
    if plugin is None:
        raise RuntimeError(f"worker {worker.name} has no kvmtest plugin: start it with "
                           "'kvmtest worker', not 'dask worker'")
    return plugin


def kill_marked(marker: str) -> int:
    """SIGTERM then SIGKILL everything marked with ``marker`` (guests, host_cmd children)."""
    backend = default_backend()
    try:
        n = backend.kill_guests(marker, None, signal.SIGTERM)
        if n:
            backend.kill_guests(marker, None, signal.SIGKILL)
        return n
    except Exception as exc:  # cleanup must go on for the other jobs
        log.error("killing the guests of %s failed: %s", marker, exc)
        return 0


class _Publisher(ResultWriter):
    """The host side's only result writer: each result goes to the coordinator at once."""

    name = "coordinator"

    def __init__(self, publish: Callable[[Dict[str, Any]], None]) -> None:
        self._publish = publish
        self.sent: List[TestResult] = []

    def test_finished(self, data: ResultsFile, result: TestResult) -> None:
        self.sent.append(result)
        self._publish({"kind": "result", "result": result.to_json()})


def run_queue_task(task: QueueTask) -> Dict[str, Any]:
    """The Dask task of one (host, queue): its pending tests in plan order, results streamed."""
    worker = get_worker()
    plugin = _plugin(worker)
    hj = plugin.job(task.job_id)
    schedule = task.schedule
    key = schedule.key
    if schedule.plan.hostname != plugin.host:
        raise RuntimeError(f"queue {key} sent to worker {plugin.host}")
    name = topic(task.job_id)

    def publish(msg: Dict[str, Any]) -> None:
        msg["key"] = key
        worker.log_event(name, msg)

    by_id = {scheduled.id: scheduled for scheduled in schedule.tests}

    def progress(ev: ProgressEvent) -> None:
        if ev.kind == "start":  # its log directory exists already: that is its attempt
            attempt = max(attempts_on_disk(hj.dir, by_id[ev.test_id]), default=1)
            publish({"kind": "start", "test_id": ev.test_id, "name": ev.name, "t": time.time(),
                     "attempt": attempt})

    data = ResultsFile(job=JobInfo(job_id=hj.marker, hostname=plugin.host),
                       tests=[TestResult.from_json(r) for r in task.prior])
    publisher = _Publisher(publish)
    store = ResultsStore(data, [publisher])
    options = task.options
    workdir = Path(options.workdir_base or tempfile.gettempdir()) / f"kvmtest-{hj.marker}"
    runtime = JobRuntime(job_id=hj.marker, results_dir=hj.dir, workdir=workdir, store=store,
                         backend=default_backend(), options=options, progress=progress,
                         total=len(schedule.tests), stop=hj.stop, hurry=hj.hurry)
    runtime.stop_reason = hj.reason
    with plugin.lock:
        if key in hj.running:
            raise RuntimeError(f"queue {key} of job {task.job_id} is already running here")
        hj.running[key] = threading.get_ident()
        hj.runtimes[key] = runtime
    plugin.mark(hj.marker, True)
    publish({"kind": "queue-start", "pid": os.getpid(), "run": task.run})
    try:
        if hj.stop.is_set():
            return {"key": key, "stopped": True, "abandoned": [], "results": []}
        run_queue(runtime, schedule)
        return {"key": key, "stopped": hj.stop.is_set(), "abandoned": list(runtime.abandoned),
                "results": [r.to_json() for r in publisher.sent]}
    finally:
        plugin.mark(hj.marker, False)
        with plugin.lock:
            hj.running.pop(key, None)
            hj.runtimes.pop(key, None)
        shutil.rmtree(workdir / safe_name(f"{schedule.plan.hostname}-{schedule.plan.queue}"),
                      ignore_errors=True)


def pack_logdir(job_id: str, relpath: str) -> bytes:
    """tar.gz of one test's log directory in this host's staging area."""
    plugin = _plugin()
    rel = Path(relpath)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or rel.parts[0] != "tests":
        raise ValueError(f"bad log path {relpath!r}")
    src = plugin.job(job_id).dir / rel
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=3) as tar:
        if src.is_dir():
            tar.add(str(src), arcname=str(rel))
    return buf.getvalue()


def preflight(tests: List[Any], dask_worker=None) -> List[str]:
    """The runner's preflight on this host (its files, binaries, daemons): the error lines."""
    from kvmtest.run.preflight import check_tests

    return list(check_tests(tests).errors)


def stop_job(job_id: str, reason: str, hurry: bool = False, dask_worker=None) -> List[str]:
    """Set the job's stop flag on this worker (the pipelines stop their tests); running queues."""
    plugin = _plugin(dask_worker)
    with plugin.lock:
        hj = plugin.jobs.get(job_id)
    if hj is None:
        return []
    hj.set_reason(reason)
    hj.stop.set()
    if hurry:
        hj.hurry.set()
    with plugin.lock:
        return sorted(hj.running)


def reap_job(job_id: str, wait: float = 30.0, dask_worker=None) -> Dict[str, Any]:
    """Before a (re)start: stop what an earlier coordinator of this job left running, kill
    its guests, and reset the job's flags. Returns what was still running."""
    plugin = _plugin(dask_worker)
    with plugin.lock:
        hj = plugin.jobs.get(job_id)
    still: List[str] = []
    if hj is not None:
        hj.set_reason("job restarted by a new coordinator")
        hj.stop.set()
        hj.hurry.set()
        deadline = time.monotonic() + wait
        while hj.running and time.monotonic() < deadline:
            time.sleep(0.05)
        still = sorted(hj.running)
    killed = kill_marked(host_job_id(job_id, plugin.host))
    if hj is not None and not still:
        with plugin.lock:
            hj.stop = threading.Event()
            hj.hurry = threading.Event()
            hj.reason = "job interrupted"
    return {"still_running": still, "killed": killed}


def forget_job(job_id: str, dask_worker=None) -> None:
    """The job is over: drop its state and staging directory on this host."""
    plugin = _plugin(dask_worker)
    with plugin.lock:
        hj = plugin.jobs.get(job_id)
        if hj is not None and hj.running:
            return
        plugin.jobs.pop(job_id, None)
    assert plugin.base_dir is not None
    shutil.rmtree(plugin.base_dir / safe_name(job_id), ignore_errors=True)


@lru_cache(maxsize=1)
def code_hash() -> str:
    """A digest of kvmtest's own source: every host must run the same code."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def host_info(dask_worker=None) -> Dict[str, Any]:
    """What the coordinator checks and records about a host before a job."""
    worker = dask_worker or get_worker()
    return {  # host_facts: kernel, qemu, cpu_model, arch, machine, kvmtest (job.hosts records them)
        **host_facts(), "name": str(worker.name), "code": code_hash(),
        "plugin": PLUGIN_NAME in worker.plugins, "nthreads": worker.state.nthreads,
        "pid": os.getpid(),
    }
