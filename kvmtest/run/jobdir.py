"""A job's results directory: where a new job may start, what a resumed one starts from.

The single-host runner (``job.run_job``) and the multi-host coordinator
(``kvmtest.cluster.coordinator.run_cluster``) follow the same rules, so both start
through ``open_job``: a new job gets a new or empty directory, a resumed one reads its
plan.json and results.json (checked to be of one job), both are scheduled before
anything is written (a ``PlanError`` leaves no trace), and one run at a time holds
the directory's lock (``lock_results_dir``).
"""

from __future__ import annotations

import datetime
import fcntl
import os
import socket
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Dict, List, Optional, Sequence, Tuple

from kvmtest.jsonfile import BadFileError
from kvmtest.plan.model import QueuePlan
from kvmtest.results.latest import RESULTS_ROOT
from kvmtest.results.records import JobInfo
from kvmtest.results.store import PLAN_JSON, RESULTS_JSON, ResultsFile, load_results
from kvmtest.run.faults import InfraError, is_machine_fault
from kvmtest.run.planfile import load_plan
from kvmtest.run.schedule import (
    QueueSchedule,
    all_test_ids,
    legacy_test_ids,
    make_test_id,
    safe_name,
    schedule,
)

LOCK_FILE = ".lock"


class JobSetupError(Exception):
    """``run_job`` refused to start: nothing ran (bad results directory, plan or output path).

    Bad input, not a failure of the machine: the CLI exits ``BAD_INPUT`` for it, while an
    ``OSError`` that escapes a job that started is ``INFRA``. Subclasses keep the builtin
    type callers may already catch (``FileExistsError``...).
    """


class JobExistsError(JobSetupError, FileExistsError):
    """The results directory holds a job already, or another run is using it."""


class NotAJobError(JobSetupError, FileNotFoundError):
    """``--resume`` of a directory without plan.json."""


class OutputPathError(JobSetupError, ValueError):
    """The results directory or the KCIDB file cannot be written."""


def new_job(set_name: str = "", cmdline: Optional[List[str]] = None,
            job_id: Optional[str] = None) -> JobInfo:
    """A new job's identity: a random id, the set, this host and the command line."""
    return JobInfo(job_id=job_id or os.urandom(6).hex(), set=set_name,
                   hostname=socket.gethostname(),
                   cmdline=list(sys.argv if cmdline is None else cmdline))


def default_results_dir(set_name: str = "", base: Path = RESULTS_ROOT) -> Path:
    """results/<YYYYmmdd-HHMMSS>-<set>, with -2, -3... if that exists already."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = f"{stamp}-{safe_name(set_name)}" if set_name else stamp
    path = Path(base) / name
    n = 2
    while path.exists():
        path = Path(base) / f"{name}-{n}"
        n += 1
    return path


def check_new_results_dir(results_dir: Path) -> None:
    """A new job gets a new or empty directory: never one it would clobber (env/, .*.tmp...)."""
    if (results_dir / RESULTS_JSON).exists() or (results_dir / PLAN_JSON).exists():
        raise JobExistsError(f"{results_dir} already holds a job: use --resume")
    if results_dir.exists() and not results_dir.is_dir():
        raise JobExistsError(f"{results_dir} exists and is not a directory")
    if results_dir.is_dir() and any(p.name != LOCK_FILE for p in results_dir.iterdir()):
        raise JobExistsError(f"{results_dir} is not empty and is not a kvmtest results directory:"
                             " give a new or empty directory")


def remembered_export(job: JobInfo, kind: str, path: Optional[Path]) -> Optional[Path]:
    """The export file of ``kind`` for this run: the one given (remembered, absolute, in the
    job's ``exports`` for later --resume runs), else the one an earlier run of the job gave."""
    if path is not None:
        path = Path(path).absolute()
        job.exports[kind] = str(path)
        return path
    remembered = job.exports.get(kind)
    return Path(remembered) if remembered else None


def check_outputs(results_dir: Path, kcidb: Optional[Path] = None) -> None:
    """Make sure the KCIDB file's directory takes files, then create ``results_dir`` (and check it).

    Raises ``OutputPathError`` (bad input, one line naming the path) before the first test:
    a typo in ``--kcidb`` must not cost a whole run. A full or read-only disk is the
    machine's fault: ``InfraError``.
    """
    if kcidb is not None:
        kcidb = Path(kcidb).absolute()
        if kcidb.is_dir():
            raise OutputPathError(f"KCIDB file {kcidb}: is a directory (give a file name)")
        if not kcidb.parent.is_dir():
            raise OutputPathError(f"KCIDB file {kcidb}: directory {kcidb.parent} does not exist")
        _probe_write(kcidb.parent, f"KCIDB file {kcidb}: cannot write in {kcidb.parent}")
    _probe_write(results_dir, f"results directory {results_dir}: cannot write there", mkdir=True)


def _probe_write(directory: Path, what: str, mkdir: bool = False) -> None:
    """Create (and remove) a file in ``directory``: os.access says yes to root on a read-only fs."""
    try:
        if mkdir:
            directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".kvmtest-probe-"):
            pass
    except OSError as exc:
        if is_machine_fault(exc):
            raise InfraError(f"{what}: {exc.strerror}") from None
        raise OutputPathError(f"{what}: {exc.strerror or exc}") from None


def lock_results_dir(results_dir: Path) -> IO[str]:
    """One run per results directory at a time; the kernel drops the lock if we are killed."""
    f = open(results_dir / LOCK_FILE, "a")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        raise JobExistsError(f"another kvmtest run is using {results_dir}") from None
    return f


def load_for_resume(results_dir: Path) -> Tuple[List[QueuePlan], JobInfo, ResultsFile]:
    """The plan, job and results recorded in ``results_dir``, checked to belong together."""
    plan_file = results_dir / PLAN_JSON
    if not plan_file.exists():
        raise NotAJobError(f"{plan_file} not found: not a kvmtest results directory")
    planned_job, queues = load_plan(plan_file)
    if (results_dir / RESULTS_JSON).exists():
        data = load_results(results_dir)
        _upgrade_ids(queues, data)
        unplanned = sorted({r.id for r in data.tests} - set(all_test_ids(queues)))
        if unplanned:
            raise BadFileError(results_dir / RESULTS_JSON,
                               f"{len(unplanned)} result(s) for tests {plan_file.name} does not"
                               f" list (first: {unplanned[0]}): the two files are not of one job")
    else:  # killed before the first write
        if planned_job is None:
            raise ValueError(f"{plan_file} has no job information")
        data = ResultsFile(job=planned_job)
    return queues, data.job, data


def _upgrade_ids(queues: List[QueuePlan], data: ResultsFile) -> None:
    """Results written before long names got a tail and a hash carry the old ids: give them
    today's, so --resume does not run their tests again (their log dirs keep their names)."""
    renames = {}
    for q in queues:
        for i, t in enumerate(q.tests, 1):
            new = make_test_id(q, i, t)
            for old in legacy_test_ids(q, i, t):
                if old != new:
                    renames[old] = new
    if renames:
        for r in (*data.tests, *data.superseded):
            r.id = renames.get(r.id, r.id)


@dataclass
class OpenedJob:
    """What a run starts from: the job's queues and identity, the results already recorded
    (none for a new job), each queue's schedule and the KCIDB file to export to."""

    queues: List[QueuePlan]
    job: JobInfo
    data: ResultsFile
    schedules: List[QueueSchedule]
    kcidb: Optional[Path]


def open_job(queues: Optional[Sequence[QueuePlan]], results_dir: Path, job: Optional[JobInfo],
             resume: bool, tags: Optional[Dict[str, str]], kcidb: Optional[Path],
             notes: List[str]) -> OpenedJob:
    """A new job (``queues``, ``job``, ``tags``) or the job recorded in ``results_dir``
    (``resume``), scheduled: raises ``JobSetupError``, ``PlanError`` or ``ValueError``
    before anything is written. ``notes`` collects the scheduler's dependency warnings."""
    if resume:
        queues, job, data = load_for_resume(results_dir)
    else:
        if queues is None:
            raise ValueError("a new job needs queues (only resume=True reads them from plan.json)")
        check_new_results_dir(results_dir)
        job = job or new_job()
        if tags:
            job.tags = dict(tags)
        data = ResultsFile(job=job)
    queues = list(queues)
    schedules = schedule(queues, data.final_ids(), notes)
    data.planned = len(all_test_ids(queues))
    return OpenedJob(queues, job, data, schedules, remembered_export(job, "kcidb", kcidb))
