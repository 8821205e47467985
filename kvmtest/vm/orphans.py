"""Guests, namespaces, domains and work dirs whose runner is gone: find them and reap them.

A runner killed with SIGKILL (or OOM) cannot clean up. Two kinds of marks make
its leftovers recognisable from any later process:

* every process a job starts carries ``KVMTEST_JOB`` and ``KVMTEST_RUNNER``
  (``<pid>:<create time>`` of the runner) in its environment;
* every running job has a record ``<state dir>/runners/<job>.json`` (runner,
  results dir, work dir), removed when the job ends.

``reap_orphans`` kills the marked processes whose runner is no longer running,
and for each job whose runner is gone also its libvirt domains, network
namespaces (bridges and taps go with them), work dir and short socket dirs.
A job whose runner still runs is never touched, whoever calls it. Every run
calls it before starting; ``run.py cleanup`` calls it on demand.

The state dir is the scope: processes inherit their runner's environment, so one whose
``KVMTEST_STATE_DIR`` differs from the reaper's belongs to runners recorded elsewhere and
is left to a reaper of that state dir (the test suite gives each test its own, so that one
test's SIGKILLed runner is not reaped by another test's run).
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Mapping, Optional

from kvmtest.fsutil import atomic_write
from kvmtest.vm import netns
from kvmtest.vm.reaper import (
    ENV_JOB,
    ENV_QUEUE,
    ENV_RUNNER,
    ENV_VM,
    _libvirt_cleanup,
    _wait_dead,
    kill_tree,
    marked_processes,
    runner_alive,
    runner_mark,
)
from kvmtest.vm.sockdir import SHORT_BASE, SHORT_PREFIX, remove_workdir

if TYPE_CHECKING:
    import psutil

log = logging.getLogger("kvmtest.vm.orphans")

_SOCKDIR_RE = re.compile(re.escape(SHORT_PREFIX) + "[0-9a-f]{12}")


ENV_STATE_DIR = "KVMTEST_STATE_DIR"


def state_dir(env: Optional[Mapping[str, str]] = None) -> Path:
    """Machine-wide (not per $TMPDIR): /run/kvmtest as root, else /tmp/kvmtest-state-<uid>.

    ``env``: another process's environment (default: this one's), for whose state dir it is.
    """
    override = (os.environ if env is None else env).get(ENV_STATE_DIR)
    if override:
        return Path(override)
    if os.access("/run", os.W_OK):
        return Path("/run/kvmtest")
    return Path(f"/tmp/kvmtest-state-{os.getuid()}")


def _runners_dir() -> Path:
    return state_dir() / "runners"


def register_runner(job_id: str, results_dir: Path, workdir: Path) -> None:
    """Record that this process runs ``job_id`` (until ``unregister_runner``)."""
    d = _runners_dir()
    d.mkdir(parents=True, exist_ok=True)
    doc = {"job_id": job_id, "runner": runner_mark(), "results_dir": str(results_dir),
           "workdir": str(workdir)}
    atomic_write(d / f"{job_id}.json", json.dumps(doc) + "\n", fsync=False)


def unregister_runner(job_id: str) -> None:
    try:
        (_runners_dir() / f"{job_id}.json").unlink()
    except FileNotFoundError:
        pass


@dataclass
class _Job:
    job_id: str
    runner: str = ""
    results_dir: str = ""
    workdir: str = ""
    record: Optional[Path] = None


def _dead_records() -> Dict[str, _Job]:
    out: Dict[str, _Job] = {}
    d = _runners_dir()
    if not d.is_dir():
        return out
    for path in sorted(d.glob("*.json")):
        try:
            doc = json.loads(path.read_text())
            job = _Job(str(doc["job_id"]), str(doc["runner"]), str(doc.get("results_dir", "")),
                       str(doc.get("workdir", "")), path)
        except (OSError, ValueError, KeyError, TypeError):
            continue  # half-written by a runner starting right now, or not ours
        if not runner_alive(job.runner):
            out[job.job_id] = job
    return out


def reap_orphans() -> List[str]:
    """Reap what runners that are gone left behind; one line per thing reaped."""
    done: List[str] = []
    dead = _dead_records()
    jobs = dict(dead)
    victims: List[psutil.Process] = []
    ours = state_dir()
    for proc, env in marked_processes():
        if state_dir(env) != ours:
            continue  # its runner is recorded in another state dir: not ours to judge
        import psutil  # (loaded by marked_processes for every process it yields)

        try:
            name = proc.name()
        except (psutil.Error, OSError):
            continue
        job_id = env[ENV_JOB]
        mark = env.get(ENV_RUNNER)
        if mark is None and job_id not in dead:
            continue  # no runner recorded (older kvmtest): not ours to judge
        if mark is not None and runner_alive(mark):
            continue
        jobs.setdefault(job_id, _Job(job_id, mark or ""))
        what = f"guest {env[ENV_VM]}" if env.get(ENV_VM) else "process"
        kill_tree(proc, signal.SIGKILL)
        victims.append(proc)
        done.append(f"job {job_id}: killed {what} ({name}, pid {proc.pid}, queue"
                    f" {env.get(ENV_QUEUE, '-')}; its runner {mark or '?'} is gone)")
    if victims:
        _wait_dead(victims, 3.0)
    for job_id, job in sorted(jobs.items()):
        try:
            n = _libvirt_cleanup(job_id, None)
            if n:
                done.append(f"job {job_id}: removed {n} libvirt domain(s) and their bridges")
        except Exception as exc:  # libvirt failing must not stop the rest
            log.warning("libvirt cleanup of job %s failed: %s", job_id, exc)
        names = netns.list_namespaces(job_id)
        netns.remove_namespaces(job_id)
        for ns in names:
            done.append(f"job {job_id}: removed network namespace {ns} (with its bridges and taps)")
        if job.workdir and Path(job.workdir).exists():
            remove_workdir(job.workdir)
            done.append(f"job {job_id}: removed work dir {job.workdir}")
        if job.record is not None:
            job.record.unlink(missing_ok=True)
            if job.results_dir:
                done.append(f"job {job_id}: runner gone; its results stay in {job.results_dir}"
                            " (--resume to finish it)")
    stale = _remove_stale_socket_dirs()
    if stale:
        done.append(f"removed {stale} empty socket dir(s) {SHORT_BASE}/{SHORT_PREFIX}<hash> left by earlier runs")
    for line in done:
        log.warning("reaped: %s", line)
    return done


def _remove_stale_socket_dirs(min_age: float = 600.0) -> int:
    """Empty short socket dirs (``sockdir``) untouched for ``min_age`` s: leaked by older kvmtest."""
    now = time.time()
    count = 0
    for d in SHORT_BASE.glob(f"{SHORT_PREFIX}*"):
        if not _SOCKDIR_RE.fullmatch(d.name):
            continue
        try:
            if not d.is_dir() or d.is_symlink() or now - d.stat().st_mtime < min_age:
                continue
            d.rmdir()  # only when empty: a queue's live sockets keep it
            count += 1
        except OSError:
            continue
    return count
