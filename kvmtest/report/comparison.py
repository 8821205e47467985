"""The report's comparison section: a ``kvmtest.compare.Comparison`` as rows for the template.

The report's job is the dev side; the baseline is one or more other jobs (``kvmtest
report DIR --baseline SPEC``). Verdicts keep the compare library's order (regressions
first); unchanged tests are counted, not listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional

from markupsafe import Markup

from kvmtest.compare import (
    FIX,
    FLAKY,
    REGRESSION,
    STILL_FAILING,
    SUSPECTED,
    UNCHANGED,
    VERDICTS,
    Comparison,
    TestRow,
)
from kvmtest.compare.text import num, pct  # the numbers as `kvmtest compare` prints them
from kvmtest.report.view import log_href

#: Verdicts whose rows get the test's history strip (a person asks "since when?").
WITH_HISTORY = (REGRESSION, SUSPECTED, FLAKY, STILL_FAILING, FIX)
#: Rows listed per verdict; the rest are counted (a baseline of another test set makes
#: every test "new").
MAX_ROWS_PER_VERDICT = 500


@dataclass
class VerdictRow:
    shortname: str
    base: str
    dev: str
    p: str
    reason: str
    log_href: str  # the dev run's debug.log when it is this report's job
    history: Optional[Markup] = None  # its history strip, for the verdicts worth a look


@dataclass
class VerdictGroup:
    verdict: str
    css: str
    rows: List[VerdictRow]
    left_out: int
    with_history: bool


@dataclass
class ChangeRow:
    shortname: str
    what: str  # "" for durations, the metric's name and unit for metrics
    base: str
    dev: str
    change: str  # "+12.3%", in *...* when significant (MMTests' mark)
    verdict: str
    css: str


@dataclass
class ComparisonView:
    base_jobs: List[str]
    dev_jobs: List[str]
    counts: Dict[str, int]
    regressed: bool
    groups: List[VerdictGroup]
    durations: List[ChangeRow]
    durations_compared: int
    metrics: List[ChangeRow]


def _verdict_css(verdict: str) -> str:
    if verdict in (REGRESSION, "slower"):
        return "verdict-regression"
    if verdict in (FIX, "improvement", "faster"):
        return "verdict-fix"
    return ""


def _row(r: TestRow, dev_job: str, results_dir: Optional[Path], out_dir: Optional[Path]) -> VerdictRow:
    href = log_href(r.dev.last_logdir, results_dir, out_dir) if r.dev.last_job == dev_job else ""
    return VerdictRow(r.shortname, r.base.describe(), r.dev.describe(),
                      "" if r.p_value is None else f"{r.p_value:.2g}", r.why, href)


def comparison_view(c: Comparison, results_dir: Optional[Path] = None,
                    out_dir: Optional[Path] = None,
                    history: Optional[Callable[[str], Optional[Markup]]] = None) -> ComparisonView:
    dev_job = c.dev_jobs[0] if len(c.dev_jobs) == 1 else ""
    groups = []
    for verdict in VERDICTS:
        rows = c.rows(verdict)
        if not rows or verdict == UNCHANGED:
            continue
        shown = [_row(r, dev_job, results_dir, out_dir) for r in rows[:MAX_ROWS_PER_VERDICT]]
        if history is not None and verdict in WITH_HISTORY:
            for row in shown:
                row.history = history(row.shortname)
        groups.append(VerdictGroup(verdict, _verdict_css(verdict), shown, len(rows) - len(shown),
                                   any(row.history for row in shown)))
    durations = [ChangeRow(d.shortname, "", f"{d.base_mean:.1f}s ({len(d.base)})",
                           f"{d.dev_mean:.1f}s ({len(d.dev)})", pct(d.change_pct, True),
                           d.verdict, _verdict_css(d.verdict))
                 for d in c.durations if d.verdict]
    metrics = [ChangeRow(m.shortname, f"{m.name} ({m.unit}, {m.better} is better)" if m.unit
                         else f"{m.name} ({m.better} is better)",
                         f"{num(m.base_mean)} ({len(m.base)})", f"{num(m.dev_mean)} ({len(m.dev)})",
                         pct(m.change_pct, m.significant), m.verdict, _verdict_css(m.verdict))
               for m in c.metrics]
    return ComparisonView(list(c.base_jobs), list(c.dev_jobs), c.counts(), c.regressed, groups,
                          durations, len(c.durations), metrics)
