"""History strips: a test's last N statuses as coloured squares, plus its duration sparkline.

Drawn for the tests a person looks at (the ones that did not pass, at most
``view.MAX_FAILURE_ROWS``), from the runs the history store knows and this job's own
result (added when the store does not have it yet: the report of a job is written when
it ends, maybe before the job is indexed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence

from markupsafe import Markup

from kvmtest.report.svg import hms, sparkline_svg, status_strip_svg
from kvmtest.results.records import PASS
from kvmtest.results.store import ResultsFile

#: Runs shown per test.
LAST_RUNS = 10


@dataclass
class PastRun:
    """One run of a test, oldest first in a strip."""

    job_id: str
    status: str
    start: float
    duration: float


def strip(runs: Sequence[PastRun]) -> Optional[Markup]:
    """The squares and the sparkline (durations of PASS runs); None for fewer than two runs
    (one square says nothing the status column does not)."""
    if len(runs) < 2:
        return None
    when = [time.strftime("%Y-%m-%d %H:%M", time.localtime(r.start)) for r in runs]
    squares = status_strip_svg([(r.status, f"{w} job {r.job_id}: {r.status} {hms(r.duration)}")
                                for r, w in zip(runs, when)])
    durations = [r.duration if r.status == PASS else None for r in runs]
    spark = Markup("")
    if sum(d is not None for d in durations) >= 2:
        spark = sparkline_svg(durations, title=f"duration of its PASS runs, last {len(runs)} runs")
    return Markup(squares + spark)


def strips(past: Callable[[str], Sequence[PastRun]], data: ResultsFile,
           last: int = LAST_RUNS) -> Callable[[str], Optional[Markup]]:
    """shortname -> its strip: ``past(shortname)`` (the store's runs, oldest first) with this
    job's result as the newest when the store does not have it yet."""
    mine: Dict[str, PastRun] = {r.shortname: PastRun(data.job.job_id, r.status, r.start, r.time)
                                for r in data.tests}

    def one(shortname: str) -> Optional[Markup]:
        runs: List[PastRun] = [r for r in past(shortname) if r.job_id != data.job.job_id]
        if shortname in mine:
            runs.append(mine[shortname])
        return strip(runs[-last:])

    return one


def store_runs(store: Any, last: int = LAST_RUNS) -> Callable[[str], Sequence[PastRun]]:
    """``shortname -> its last runs`` (oldest first) from a HistoryStore."""
    def past(shortname: str) -> Sequence[PastRun]:
        return [PastRun(r.job_id, r.status, r.start, r.duration)
                for r in store.test_history(shortname, last=last)]

    return past
