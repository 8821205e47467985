"""The coordinator of a multi-host job: one command, every host of the plan, one results dir.

It plans nothing itself (the caller hands it every host's queues), checks the cluster
(``connect``), submits one Dask task per (host, queue) pinned by a per-host resource, and
turns the hosts' event streams into the job's ResultsStore (results.json, results.xml and
KCIDB rewritten after every test) and today's progress lines. Log directories are copied
back test by test.

Faults: a host whose worker goes away has its running test recorded INTERRUPTED
(``fail_class = HostLost``), the rest of its queue stays pending for ``--resume``, its task is
cancelled so Dask never runs it again, and the other hosts go on. SIGINT/SIGTERM stop every
host. Nothing is retried or moved to another host.
"""

from __future__ import annotations

import io
import logging
import os
import queue
import shutil
import tarfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from kvmtest.exitcodes import INFRA
from kvmtest.plan.model import QueuePlan
from kvmtest.report.writer import job_writers
from kvmtest.results.latest import job_dir, point_latest
from kvmtest.results.records import INTERRUPTED, JobInfo, TestResult
from kvmtest.results.store import JOB_LOG, PLAN_JSON, ResultsFile
from kvmtest.results.summary import format_summary
from kvmtest.results.writers import ResultsStore
from kvmtest.run.attempts import FINISHED, INTERRUPTED_RUN, account_for_killed_run, logdir_for
from kvmtest.run.faults import Fault
from kvmtest.run.job import (
    JobLogging,
    JobSummary,
    history_file,
    index_history,
    print_progress,
    record_host_facts,
)
from kvmtest.run.jobdir import lock_results_dir, open_job  # the single-host job's rules too
from kvmtest.run.pipeline import ProgressEvent, RunOptions, format_event
from kvmtest.run.planfile import save_plan
from kvmtest.run.schedule import QueueSchedule, safe_name
from kvmtest.run.signals import StopOnSignals
from kvmtest.vm.hostfacts import facts_of

from .connect import (
    Cluster,
    ClusterOptions,
    ClusterSetupError,
    check_versions,
    preflight_hosts,
    wait_for_hosts,
)
from .hostside import (
    QueueTask,
    forget_job,
    pack_logdir,
    reap_job,
    resource_name,
    run_queue_task,
    stop_job,
    topic,
)

log = logging.getLogger("kvmtest.cluster")

HOST_LOST_CLASS = "HostLost"
HOSTS_JSON = "hosts.json"


@dataclass
class ClusterSummary(JobSummary):
    """A JobSummary that also knows which hosts were lost (exit 3: the infrastructure failed)."""

    lost_hosts: List[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.interrupted or not self.lost_hosts:
            return super().exit_code
        return INFRA


@dataclass
class _Queue:
    schedule: QueueSchedule
    future: Any = None
    running: Optional[Tuple[str, str, float, int]] = None  # test id, name, start, attempt
    done: bool = False
    lost: Optional[str] = None  # why the host was lost
    recorded: set = field(default_factory=set)  # (test id, attempt) recorded in this run
    last_line: float = 0.0  # monotonic time of the last progress line about its running test
    started: set = field(default_factory=set)  # test ids this run saw start ("left" counts them)

    @property
    def key(self) -> str:
        return self.schedule.key

    @property
    def host(self) -> str:
        return self.schedule.plan.hostname


def run_cluster(queues: Optional[Sequence[QueuePlan]], results_dir: Path,
                opts: ClusterOptions, job: Optional[JobInfo] = None, resume: bool = False,
                kcidb: Optional[Path] = None,
                progress: Optional[Callable[[ProgressEvent], None]] = None,
                run_options: Optional[RunOptions] = None,
                say: Callable[[str], None] = print,
                tags: Optional[Dict[str, str]] = None) -> ClusterSummary:
    """Run every host's ``queues`` on the cluster and write one results directory.

    With ``resume`` the plan comes from ``results_dir/plan.json`` and only tests without a
    final status run, each on the host the plan gave it (and the job keeps its ``tags``; a new
    job records ``tags`` in ``job.tags``). Raises ``ClusterSetupError`` or
    ``PlanError`` before any test starts when the job cannot run.
    """
    results_dir = job_dir(results_dir)  # results/latest followed: the job it names
    notes: List[str] = []
    opened = open_job(queues, results_dir, job, resume, tags, kcidb, notes)  # nothing written yet
    queues, job, data, schedules, kcidb = (opened.queues, opened.job, opened.data, opened.schedules,
                                           opened.kcidb)
    plan_hosts = {q.hostname for q in queues}
    needed = sorted({queue_schedule.plan.hostname for queue_schedule in schedules})
    per_host: Dict[str, int] = {}
    for queue_schedule in schedules:
        host = queue_schedule.plan.hostname
        per_host[host] = per_host.get(host, 0) + 1
    stop = threading.Event()
    hurry = threading.Event()
    sigs = StopOnSignals(stop, hurry)
    with sigs:
        cluster = Cluster(opts)
        try:
            joined = _Joins(cluster, say)
            cluster.client.subscribe_topic("all", joined.on_event)
            hosts = wait_for_hosts(cluster, needed, plan_hosts, per_host, opts.wait_hosts,
                                   stop.is_set, say)
            if stop.is_set():
                return _stopped_before_start(results_dir, data, sigs)
            infos = check_versions(cluster, hosts)
            for host, info in infos.items():  # each host's own kernel, qemu, CPU
                record_host_facts(job, [host], facts_of(info))
            by_host: Dict[str, list] = {}
            for queue_schedule in schedules:
                by_host.setdefault(queue_schedule.plan.hostname, []).extend(
                    scheduled.test for scheduled in queue_schedule.tests)
            preflight_hosts(cluster, hosts, by_host)
            results_dir.mkdir(parents=True, exist_ok=True)
            lock = lock_results_dir(results_dir)
            try:
                if not resume:
                    job.start = time.time()
                    save_plan(results_dir / PLAN_JSON, job, queues)
                else:  # a coordinator that was killed: close its run's books
                    account_for_killed_run(results_dir, data, schedules)
                _write_hosts(results_dir, infos)
                run = _Run(cluster, results_dir, job, data, schedules, kcidb,
                           progress or print_progress, run_options or RunOptions(), opts,
                           stop, hurry, sigs, say, joined)
                summary = run.execute(resume)
                index_history(results_dir, run_options or RunOptions())
                return summary
            finally:
                lock.close()
        finally:
            cluster.close()


def resume_cluster(results_dir: Path, opts: ClusterOptions, **kwargs) -> ClusterSummary:
    """Finish the job of ``results_dir`` on the cluster (tests without a final status)."""
    return run_cluster(None, results_dir, opts, resume=True, **kwargs)


def _stopped_before_start(results_dir: Path, data: ResultsFile, sigs) -> ClusterSummary:
    return ClusterSummary(results_dir, data, "stopped before any test started",
                          sigs.received or "stopped")


def _write_hosts(results_dir: Path, infos: Dict[str, Dict[str, Any]]) -> None:
    """hosts.json: what each host ran (kvmtest, qemu, kernel), appended per run."""
    import json

    from kvmtest.fsutil import atomic_write

    path = results_dir / HOSTS_JSON
    runs = json.loads(path.read_text()) if path.exists() else []
    runs.append({"time": time.time(), "hosts": infos})
    atomic_write(path, json.dumps(runs, indent=1) + "\n")


class _Joins:
    """'[cluster] host X joined/left' lines from the scheduler's "all" topic."""

    def __init__(self, cluster: Cluster, say: Callable[[str], None]) -> None:
        self.cluster = cluster
        self.say = say
        self.inbox: Optional[queue.Queue] = None

    def on_event(self, ev) -> None:  # runs on the client's event loop: never block here
        msg = ev[1] if isinstance(ev, tuple) else ev
        if not isinstance(msg, dict) or msg.get("action") not in ("add-worker", "remove-worker"):
            return
        if self.inbox is not None:
            self.inbox.put(("all", msg))
        else:
            threading.Thread(target=self._print, args=(msg,), daemon=True).start()

    def _print(self, msg: Dict[str, Any]) -> None:
        name = self.cluster.name_of(msg["worker"])
        verb = "joined" if msg["action"] == "add-worker" else "left"
        self.say(f"[cluster] host {name} {verb} ({msg['worker']})")


class _Run:
    """One start or resume of a job on the cluster: submit, follow, record, stop."""

    def __init__(self, cluster: Cluster, results_dir: Path, job: JobInfo, data: ResultsFile,
                 schedules: List[QueueSchedule], kcidb: Optional[Path],
                 progress: Callable[[ProgressEvent], None], options: RunOptions,
                 opts: ClusterOptions, stop: threading.Event, hurry: threading.Event, sigs,
                 say: Callable[[str], None], joins: _Joins) -> None:
        self.cluster = cluster
        self.client = cluster.client
        self.dir = results_dir
        self.job = job
        self.kcidb = kcidb
        self.progress = progress
        self.options = options
        self.opts = opts
        self.stop = stop
        self.hurry = hurry
        self.sigs = sigs
        self.say = say
        self.joins = joins
        self.inbox: queue.Queue = queue.Queue()
        self.queues = {queue_schedule.key: _Queue(queue_schedule) for queue_schedule in schedules}
        self.total = sum(len(queue_schedule.tests) for queue_schedule in schedules)
        self.ended = 0
        self.t0 = time.monotonic()
        self.lost_hosts: List[str] = []
        self.fetches = ThreadPoolExecutor(4, thread_name_prefix="kvmtest-logs")
        self.fetch_futures: Dict[str, List[Any]] = {}
        self.fetch_lock = threading.Lock()
        self.unpack_lock = threading.Lock()
        # the job's own writers: results.json (+ its journal), results.xml, KCIDB if asked,
        # report.html
        self.store = ResultsStore(data, job_writers(results_dir, kcidb, history_file(options)),
                                  options.snapshot_interval)

    # --- the run ---------------------------------------------------------------------------

    def execute(self, resume: bool) -> ClusterSummary:
        job = self.job
        run_info: Dict[str, Any] = {"start": time.time(), "end": None, "resume": resume, "pid": os.getpid(),
                    "tests": self.total, "interrupted": None, "cluster": self.cluster.address}
        job.runs.append(run_info)
        job.end = None
        job.interrupted = None
        run_no = len(job.runs)
        with JobLogging(self.dir / JOB_LOG, Fault()):
            log.info("job %s %s on the cluster %s: %d queue(s) on %s, %d test(s) to run",
                     job.job_id, "resumed" if resume else "started", self.cluster.address,
                     len(self.queues), ", ".join(sorted({q.host for q in self.queues.values()})),
                     self.total)
            point_latest(self.dir)  # a running job is results/latest
            for stale in self.dir.glob(".*.tmp"):
                stale.unlink(missing_ok=True)
            self.store.open()
            self.joins.inbox = self.inbox
            self.client.subscribe_topic(topic(job.job_id), self._on_job_event)
            hosts = sorted({q.host for q in self.queues.values()})
            if resume:  # an earlier coordinator of this job may have left queues running
                self._on_hosts(hosts, reap_job, job.job_id, self.opts.stop_wait)
            self.sigs.on_stop = self._on_signal
            try:
                self._submit(run_no)
                self._follow()
            finally:
                self.sigs.on_stop = None
                self._finish_fetches()
                self._on_hosts(hosts, forget_job, job.job_id)
                self.client.unsubscribe_topic(topic(job.job_id))
                interrupted = self.sigs.received or ("stopped" if self.stop.is_set() else None)
                run_info["end"] = job.end = time.time()
                run_info["interrupted"] = job.interrupted = interrupted
                run_info["lost_hosts"] = list(self.lost_hosts)
                run_info["ended"] = INTERRUPTED_RUN if interrupted else FINISHED
                self.store.close()
                text = format_summary(self.store.data, self.dir)
                if self.lost_hosts:
                    text += f"\nlost host(s): {', '.join(self.lost_hosts)}"
                for line in text.splitlines():
                    log.info("%s", line)
        summary = ClusterSummary(self.dir, self.store.data, text, interrupted, [],
                                 lost_hosts=list(self.lost_hosts))
        if self.options.print_summary:
            summary.print()
        return summary

    def _on_hosts(self, hosts: List[str], fn, *args) -> Dict[str, Any]:
        try:  # the workers connected now (a lost host's old address would hang the call)
            addrs = [a for a, w in self.cluster.workers().items() if str(w.get("name")) in hosts]
            if not addrs:
                return {}
            return self.client.run(fn, *args, workers=addrs, on_error="return")
        except Exception as exc:
            log.warning("%s on %s failed: %s", fn.__name__, ", ".join(hosts), exc)
            return {}

    def _submit(self, run_no: int) -> None:
        for q in self.queues.values():
            prior = [r.to_json() for r in self.store.data.tests
                     if f"{r.hostname}/{r.queue}" == q.key]
            task = QueueTask(self.job.job_id, q.schedule, prior, self.options, run_no)
            key = f"kvmtest-{self.job.job_id}-{safe_name(q.host)}-{safe_name(q.schedule.plan.queue)}" \
                  f"-run{run_no}"
            q.future = self.client.submit(run_queue_task, task, key=key, pure=False, retries=0,
                                          resources={resource_name(q.host): 1})
            q.future.add_done_callback(lambda f, k=q.key: self.inbox.put(("done", k)))

    def _on_job_event(self, ev) -> None:  # on the client's event loop: hand over, never block
        self.inbox.put(("job", ev[1]))

    def _on_signal(self, name: str) -> None:
        self.inbox.put(("signal", name))

    def _follow(self) -> None:
        stop_sent = hurry_sent = False
        deadline: Optional[float] = None
        while not all(q.done for q in self.queues.values()):
            try:
                kind, msg = self.inbox.get(timeout=0.2)
            except queue.Empty:
                kind, msg = "", None
            if kind == "job":
                self._job_event(msg)
            elif kind == "all":
                self._cluster_event(msg)
            elif kind == "done":
                self._done(self.queues[msg])
            self._heartbeats()
            if self.stop.is_set() and not stop_sent:
                stop_sent = True
                deadline = time.monotonic() + self.opts.stop_wait
                self._stop_hosts(hurry=False)
            if self.hurry.is_set() and not hurry_sent:
                hurry_sent = True
                self._stop_hosts(hurry=True)
            if deadline is not None and time.monotonic() > deadline:
                for q in self.queues.values():
                    if not q.done:
                        self._lose(q, f"host {q.host} did not answer within"
                                      f" {self.opts.stop_wait:g} s of the stop")
                break

    def _heartbeats(self) -> None:
        """A RUNNING line for a test silent for ``heartbeat`` seconds, as a local run prints."""
        period = self.options.heartbeat
        if period <= 0:
            return
        now = time.monotonic()
        for q in self.queues.values():
            if q.running is not None and not q.done and now - q.last_line >= period:
                q.last_line = now
                test_id, name, start, _ = q.running
                self._emit(ProgressEvent("running", q.key, test_id, name, now - self.t0,
                                         self.total - self.ended,
                                         duration=max(0.0, time.time() - start)))

    def _stop_hosts(self, hurry: bool) -> None:
        reason = f"{self.sigs.received or 'stop'} received by the coordinator"
        self.say(f"[cluster] stopping every host ({reason})")
        hosts = sorted({q.host for q in self.queues.values() if not q.done})
        self._on_hosts(hosts, stop_job, self.job.job_id, reason, hurry)

    # --- events ----------------------------------------------------------------------------

    def _job_event(self, msg: Dict[str, Any]) -> None:
        q = self.queues.get(msg.get("key", ""))
        if q is None or q.done:
            log.warning("event for %s ignored (%s)", msg.get("key"),
                        "queue over" if q else "not a queue of this run")
            return
        kind = msg.get("kind")
        if kind == "start":
            q.running = (msg["test_id"], msg["name"], float(msg["t"]), int(msg.get("attempt", 1)))
            q.last_line = time.monotonic()
            q.started.add(msg["test_id"])
            self._emit(ProgressEvent("start", q.key, msg["test_id"], msg["name"],
                                     time.monotonic() - self.t0, self.total - self.ended))
        elif kind == "result":
            self._host_result(q, TestResult.from_json(msg["result"]))
        elif kind == "queue-start":
            log.info("[%s] queue started on pid %s (run %s)", q.key, msg.get("pid"),
                     msg.get("run"))

    def _host_result(self, q: _Queue, r: TestResult) -> None:
        """A result the host sent (event, or the task's return value): recorded once."""
        if (r.id, r.attempt) in q.recorded:
            return
        self._record(q, r)
        self._fetch_logs(q.host, r.logdir)

    def _record(self, q: _Queue, r: TestResult) -> None:
        self.store.add(r)
        q.recorded.add((r.id, r.attempt))
        if q.running is not None and q.running[0] == r.id:
            q.running = None
        if r.id in q.started:  # not a result of an earlier coordinator's attempt, stopped now
            q.started.discard(r.id)
            self.ended += 1
        self._emit(ProgressEvent("end", q.key, r.id, r.name, time.monotonic() - self.t0,
                                 self.total - self.ended, r.status, r.time, r.fail_reason))

    def _emit(self, ev: ProgressEvent) -> None:
        log.info("%s", format_event(ev))
        try:
            self.progress(ev)
        except Exception as exc:
            log.error("progress callback failed: %s", exc)

    def _cluster_event(self, msg: Dict[str, Any]) -> None:
        addr = msg.get("worker", "")
        if msg.get("action") == "add-worker":
            self.say(f"[cluster] host {self.cluster.name_of(addr)} joined ({addr})")
            return
        name = self.cluster.names.get(addr, addr)
        how = "stopped by the scheduler" if msg.get("expected") else "connection lost"
        self.say(f"[cluster] host {name} left ({addr}, {how})")
        for q in self.queues.values():
            if q.host == name and not q.done:
                self._lose(q, f"host {name} lost ({how}, worker {addr})")

    def _done(self, q: _Queue) -> None:
        if q.done:
            return
        f = q.future
        if f.status == "finished":
            try:
                out = f.result(timeout=5)
            except Exception as exc:
                out = {"stopped": True, "results": []}
                log.warning("[%s] result unreadable: %s", q.key, exc)
            # the returned results are authoritative: an event may still be on its way
            for r in out.get("results", []):
                self._host_result(q, TestResult.from_json(r))
            q.done = True
            if out.get("stopped") and not self.stop.is_set():
                # nobody here asked for it: the host stopped its worker (SIGTERM there)
                if q.host not in self.lost_hosts:
                    self.lost_hosts.append(q.host)
                self.say(f"[cluster] host {q.host} stopped {q.key} on its own")
            self._interrupt_running(q, f"host {q.host} ended queue {q.key} without a result"
                                       " for this test")
            return
        if f.status == "cancelled":
            self._lose(q, f"the task of {q.key} was cancelled")
            return
        try:
            error: Optional[BaseException] = f.exception(timeout=5)
        except Exception as e:  # cancelled meanwhile, or the client is gone
            error = e
        self._lose(q, f"host {q.host} lost ({type(error).__name__}: {error})")

    def _lose(self, q: _Queue, why: str) -> None:
        """The host of ``q`` is gone: never run its task again; its running test INTERRUPTED."""
        if q.done:
            return
        q.done = True
        q.lost = why
        if q.future is not None:
            try:
                q.future.cancel()
            except Exception as exc:
                log.warning("[%s] cancel failed: %s", q.key, exc)
        if q.host not in self.lost_hosts:
            self.lost_hosts.append(q.host)
        with self.fetch_lock:
            for f in self.fetch_futures.pop(q.host, []):
                f.cancel()
        ran = {tid for tid, _ in q.recorded} | ({q.running[0]} if q.running else set())
        pending = [scheduled.id for scheduled in q.schedule.tests if scheduled.id not in ran]
        self._interrupt_running(q, why, HOST_LOST_CLASS)
        if pending:
            self.say(f"[cluster] {len(pending)} test(s) of {q.key} not run: finish with"
                     f" --resume {self.dir}")

    def _interrupt_running(self, q: _Queue, why: str, fail_class: str = HOST_LOST_CLASS) -> None:
        if q.running is None:
            return
        test_id, name, start, attempt = q.running
        scheduled = next(s for s in q.schedule.tests if s.id == test_id)
        rel = logdir_for(self.dir, scheduled, attempt).relative_to(self.dir)
        (self.dir / rel).mkdir(parents=True, exist_ok=True)
        reason = f"{why} while this test ran; the rest of queue {q.key} was not run"
        (self.dir / rel / "host_lost.log").write_text(reason + "\n")
        t = scheduled.test
        self._record(q, TestResult(
            id=test_id, name=name, shortname=t.shortname, status=INTERRUPTED,
            hostname=t.hostname, queue=t.queue, start=start, end=time.time(),
            fail_reason=reason, fail_class=fail_class, logdir=str(rel),
            addresses=list(t.addresses), attempt=attempt))

    # --- logs ------------------------------------------------------------------------------

    def _fetch_logs(self, host: str, relpath: str) -> None:
        if not relpath:
            return
        self.fetches.submit(self._fetch_one, host, relpath)

    def _fetch_one(self, host: str, relpath: str) -> None:
        try:
            fut = self.client.submit(pack_logdir, self.job.job_id, relpath, pure=False,
                                     retries=0, resources={resource_name(host): 1},
                                     key=f"kvmtest-logs-{self.job.job_id}-{os.urandom(6).hex()}")
            with self.fetch_lock:
                self.fetch_futures.setdefault(host, []).append(fut)
            blob = fut.result(timeout=120)
            with self.fetch_lock:
                if fut in self.fetch_futures.get(host, []):
                    self.fetch_futures[host].remove(fut)
            with self.unpack_lock:  # one extraction at a time: they share parent directories
                unpack_logs(blob, self.dir, relpath)
        except Exception as exc:
            log.warning("logs of %s on %s not copied: %s", relpath, host, exc)

    def _finish_fetches(self) -> None:
        self.fetches.shutdown(wait=True)


def unpack_logs(blob: bytes, results_dir: Path, relpath: str) -> None:
    """Extract one test's log tarball into the results directory (only under ``relpath``)."""
    target = results_dir / relpath
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        members = tar.getmembers()
        for m in members:
            p = Path(m.name)
            if p.is_absolute() or ".." in p.parts or p.parts[:len(Path(relpath).parts)] != \
                    Path(relpath).parts or not (m.isfile() or m.isdir()):
                raise ValueError(f"unexpected entry {m.name!r} in the logs of {relpath}")
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        if hasattr(tarfile, "data_filter"):
            tar.extractall(results_dir, members=members, filter="data")
        else:  # pragma: no cover - old Pythons; entries were checked above
            tar.extractall(results_dir, members=members)


__all__ = ["ClusterOptions", "ClusterSetupError", "ClusterSummary", "HOST_LOST_CLASS",
           "resume_cluster", "run_cluster"]
