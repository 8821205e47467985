"""Attempts: every run of a test gets its own log directory, and a killed run is accounted for.

A test's first attempt logs to ``tests/<host>-<queue>/<n>-<name>/``, later ones to
``...<n>-<name>.<attempt>/``. The attempt number is one more than the highest
one results.json knows *or* the disk holds: a runner that was SIGKILLed while
a test ran left that test's directory but no result, and the next attempt must
not write its console log over it.

On ``--resume`` (under the results directory's lock, so the old runner is gone)
``account_for_killed_run`` writes down what such a run left unsaid: its entry in
``job.runs`` gets an end time and ``ended: "killed"``, and each test it was
running gets an INTERRUPTED result (``fail_class`` ``RunnerKilled``) for the
attempt whose directory it left, so the rerun is the next attempt and the
killed one stays in ``superseded``.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from kvmtest.plan.names import safe_name, test_name_part
from kvmtest.results.records import INTERRUPTED, TestResult
from kvmtest.results.store import JOB_LOG, ResultsFile
from kvmtest.run.schedule import QueueSchedule, ScheduledTest

#: ``fail_class`` of an attempt that was running when its runner was killed (SIGKILL, OOM, power).
KILLED_CLASS = "RunnerKilled"

#: ``job.runs[].ended`` values.
FINISHED, INTERRUPTED_RUN, INFRA_RUN, KILLED = "finished", "interrupted", "infra", "killed"


def logdir_for(results_dir: Path, scheduled: ScheduledTest, attempt: int) -> Path:
    """``tests/<host>-<queue>/<n>-<name>`` for attempt 1, ``...<n>-<name>.<attempt>`` after."""
    t = scheduled.test
    d = Path(results_dir) / "tests" / f"{safe_name(t.hostname)}-{safe_name(t.queue)}"
    leaf = f"{scheduled.index}-{test_name_part(t.shortname)}"
    return d / (leaf if attempt == 1 else f"{leaf}.{attempt}")


def attempts_on_disk(results_dir: Path, scheduled: ScheduledTest) -> Dict[int, Path]:
    """Attempt number -> log directory, for the attempts of ``scheduled`` that left one.

    Attempts are numbered without gaps, so probing 1, 2, 3... up to the first missing
    directory costs O(attempts), not a listing of the queue's (possibly huge) log directory.
    """
    found: Dict[int, Path] = {}
    attempt = 1
    while True:
        d = logdir_for(results_dir, scheduled, attempt)
        if not d.is_dir():
            return found
        found[attempt] = d
        attempt += 1


def next_attempt(results_dir: Path, scheduled: ScheduledTest, known: Sequence[TestResult]) -> int:
    """One more than any attempt results.json records (``known``) or the disk shows."""
    used = [r.attempt for r in known] + list(attempts_on_disk(results_dir, scheduled))
    return max(used, default=0) + 1


def account_for_killed_run(results_dir: Path, data: ResultsFile,
                           schedules: Sequence[QueueSchedule]) -> Optional[Dict]:
    """Close the books of a run that was killed: its ``job.runs`` entry and its running tests.

    Returns the run entry it closed, or None when the last run ended normally.
    """
    if not data.job.runs or data.job.runs[-1].get("end") is not None:
        return None
    run = data.job.runs[-1]
    by_id = {r.id: r for r in data.tests}
    history: Dict[str, List[TestResult]] = {}
    for r in (*data.superseded, *data.tests):
        history.setdefault(r.id, []).append(r)
    last_seen = _mtime(Path(results_dir) / JOB_LOG) or float(run.get("start") or 0.0)
    for queue_schedule in schedules:
        for scheduled in queue_schedule.tests:
            on_disk = attempts_on_disk(results_dir, scheduled)
            recorded = max((r.attempt for r in history.get(scheduled.id, [])), default=0)
            newer = [a for a in on_disk if a > recorded]
            if not newer:
                continue
            attempt = max(newer)
            logdir = on_disk[attempt]
            debug = logdir / "debug.log"
            end = _mtime(debug) or _mtime(logdir) or last_seen
            start = min(_first_log_time(debug) or end, end)
            pid = run.get("pid")
            killed = TestResult(
                id=scheduled.id, name=scheduled.test.name, shortname=scheduled.test.shortname,
                status=INTERRUPTED,
                hostname=scheduled.test.hostname, queue=scheduled.test.queue, start=start, end=end,
                fail_reason=f"the runner{f' (pid {pid})' if pid else ''} was killed while this"
                            " attempt ran; its log directory is kept as it was left",
                fail_class=KILLED_CLASS, logdir=str(logdir.relative_to(results_dir)),
                addresses=list(scheduled.test.addresses), attempt=attempt)
            previous = by_id.pop(scheduled.id, None)
            if previous is not None:
                data.tests.remove(previous)
                data.superseded.append(previous)
            data.tests.append(killed)
            last_seen = max(last_seen, end)
    run["end"] = last_seen
    run["ended"] = KILLED
    return run


def _mtime(path: Path) -> Optional[float]:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def _first_log_time(debug_log: Path) -> Optional[float]:
    """When a debug.log's first line was written ('2026-12-03 10:10:00,123 ...', local time)."""
    try:
        with open(debug_log, encoding="utf-8", errors="replace") as f:
            head = f.readline()[:23]
        return datetime.datetime.strptime(head, "%Y-%m-%d %H:%M:%S,%f").timestamp()
    except (OSError, ValueError):
        return None
