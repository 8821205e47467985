"""What the report shows, computed from a ``ResultsFile``: plain data for the template.

Kept apart from the template so tests can check the numbers without parsing HTML, and
so the template stays a layout with no logic beyond loops and ifs.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple
from urllib.parse import quote

from markupsafe import Markup

from kvmtest import exitcodes
from kvmtest.report.packed import pack_tests
from kvmtest.report.svg import STATUS_CLASS, TimeAxis, hms, timeline_svg
from kvmtest.results.records import ERROR, FAIL, INTERRUPTED, PASS, SKIP, STATUSES, TestResult
from kvmtest.results.store import ResultsFile
from kvmtest.results.summary import all_passed

HOSTS_JSON = "hosts.json"  # a --cluster job's per-host versions (kvmtest.cluster writes it)
#: Order of the failures list: what needs a person first.
FAILURE_ORDER = {FAIL: 0, ERROR: 1, INTERRUPTED: 2, SKIP: 3}
#: Failures listed in the page itself; the rest are in the all-tests table (JavaScript).
MAX_FAILURE_ROWS = 2000

#: Per shortname: the history strip (status squares + duration sparkline), or None.
HistoryStrip = Callable[[str], Optional[Markup]]


@dataclass
class Header:
    job_id: str
    test_set: str
    hostname: str
    tags: List[Tuple[str, str]]
    hosts: Dict[str, Dict[str, str]]  # host -> fact -> value (kernel, qemu, accel, cpu...)
    host_keys: List[str]  # the facts' names, in first-seen order (the hosts table's columns)
    start: str
    end: str
    wall: str  # job start to last end, pauses between runs included
    running: str  # the runs' time without the pauses
    test_time: str  # the tests' durations added up
    exit_code: Optional[int]
    exit_text: str
    runs: int
    cmdline: str
    planned: int
    pending: int
    counts: Dict[str, int]


@dataclass
class SummaryRow:
    host: str
    queue: str  # "" on a host's total row, "TOTAL" on the last
    counts: Dict[str, int]
    total: int
    time: str


@dataclass
class FailureRow:
    status: str
    css: str
    id: str
    name: str
    shortname: str
    reason_line: str
    reason: str  # the whole reason, shown folded when it has more than the first line
    fail_class: str
    duration: str
    attempt: int
    log_href: str  # relative to the report; '' when the test has no log directory
    history: Optional[Markup] = None


@dataclass
class MeasuredRow:
    """One metric a test of this job recorded (``TestResult.metrics``, results.json v3)."""

    test_id: str
    name: str
    value: str
    unit: str
    better: str


@dataclass
class ReportView:
    header: Header
    summary: List[SummaryRow]
    failures: List[FailureRow]
    failures_left_out: int
    failures_history: bool  # some failure has a history strip (the table gets the column)
    metrics: List[MeasuredRow]
    metrics_left_out: int
    timeline: Markup
    tests_json: Markup  # the all-tests table's data (kvmtest.report.packed)
    statuses: Sequence[str] = STATUSES
    status_class: Dict[str, str] = field(default_factory=lambda: dict(STATUS_CLASS))
    generated: str = ""


def _when(t: Optional[float]) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(t)) if t else "-"


def recorded_exit(data: ResultsFile) -> Tuple[Optional[int], str]:
    """The exit status the job's last run had, from what results.json recorded.

    The same rules as ``JobSummary.exit_code`` (a signal, then the machine, then the
    tests), for a report written at the end of the run or long after it.
    """
    if not data.job.runs:
        return None, "no run recorded"
    last = data.job.runs[-1]
    ended = last.get("ended")
    if ended is None:
        return None, "running, or its runner was killed (finish with --resume)"
    stopped = last.get("interrupted") or data.job.interrupted
    if stopped:
        try:
            return exitcodes.interrupted(signal.Signals[stopped]), f"interrupted by {stopped}"
        except KeyError:
            return exitcodes.TESTS_FAILED, f"interrupted ({stopped})"
    if ended != "finished" or last.get("error") or last.get("lost_hosts"):
        why = last.get("error") or (f"lost host(s): {', '.join(last['lost_hosts'])}"
                                    if last.get("lost_hosts") else f"the run ended: {ended}")
        return exitcodes.INFRA, f"the runner or the machine failed: {why}"
    if all_passed(data):
        return exitcodes.OK, "every planned test passed"
    return exitcodes.TESTS_FAILED, "some tests did not pass"


def host_facts(data: ResultsFile, results_dir: Optional[Path]) -> Dict[str, Dict[str, str]]:
    """Per host, the facts that matter when comparing runs (job.hosts in results.json v3;
    before that, a --cluster job's hosts.json; the job's own hostname otherwise)."""
    facts: Dict[str, Dict[str, str]] = {}
    recorded = getattr(data.job, "hosts", None)
    if isinstance(recorded, dict):
        for host, info in recorded.items():
            if isinstance(info, dict):
                facts[str(host)] = {str(k): _fact(v) for k, v in info.items()}
    if not facts and results_dir is not None:
        try:
            runs = json.loads((results_dir / HOSTS_JSON).read_text())
            for host, info in runs[-1]["hosts"].items():
                facts[str(host)] = {str(k): _fact(v) for k, v in info.items()
                                    if k not in ("plugin", "code")}
        except (OSError, ValueError, LookupError, TypeError, AttributeError):
            pass
    return facts


def _fact(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _tags(data: ResultsFile) -> List[Tuple[str, str]]:
    tags = getattr(data.job, "tags", None) or {}
    if isinstance(tags, dict):
        return sorted((str(k), str(v)) for k, v in tags.items())
    return [(str(t), "") for t in tags]


def header(data: ResultsFile, results_dir: Optional[Path], axis: TimeAxis) -> Header:
    job = data.job
    end = job.end if job.end is not None else max([r.end for r in data.tests] or [job.start])
    code, text = recorded_exit(data)
    hosts = host_facts(data, results_dir)
    return Header(
        job_id=job.job_id, test_set=job.set, hostname=job.hostname, tags=_tags(data),
        hosts=hosts, host_keys=list(dict.fromkeys(k for f in hosts.values() for k in f)), start=_when(job.start), end=_when(job.end),
        wall=hms(max(0.0, end - job.start)), running=hms(axis.length),
        test_time=hms(sum(r.time for r in data.tests)), exit_code=code, exit_text=text,
        runs=len(job.runs), cmdline=" ".join(job.cmdline), planned=data.planned,
        pending=max(0, data.planned - len(data.final_ids())), counts=data.counts(),
    )


def summary_rows(tests: Sequence[TestResult]) -> List[SummaryRow]:
    """One row per host/queue, a total row per host when there are several, and TOTAL."""
    per: Dict[Tuple[str, str], List[TestResult]] = {}
    for r in tests:
        per.setdefault((r.hostname, r.queue), []).append(r)
    rows: List[SummaryRow] = []
    hosts = sorted({h for h, _ in per})

    def row(host: str, queue: str, group: Sequence[TestResult]) -> SummaryRow:
        counts = {s: 0 for s in STATUSES}
        for r in group:
            counts[r.status] += 1
        return SummaryRow(host, queue, counts, len(group), hms(sum(r.time for r in group)))

    for host in hosts:
        queues = sorted(q for h, q in per if h == host)
        for q in queues:
            rows.append(row(host, q, per[(host, q)]))
        if len(hosts) > 1 and len(queues) > 1:
            rows.append(row(host, "", [r for q in queues for r in per[(host, q)]]))
    rows.append(row("", "TOTAL", tests))
    return rows


def log_href(logdir: str, results_dir: Optional[Path], out_dir: Optional[Path]) -> str:
    """A test's debug.log (``logdir`` as results.json has it) relative to where the report is
    written, as a URL path ('' for a test without a log directory)."""
    if not logdir:
        return ""
    target = Path(logdir) / "debug.log"
    if results_dir is not None and out_dir is not None:
        target = Path(os.path.relpath(Path(results_dir).absolute() / target, Path(out_dir).absolute()))
    return quote(target.as_posix())


def failure_rows(tests: Sequence[TestResult], results_dir: Optional[Path],
                 out_dir: Optional[Path], history: Optional[HistoryStrip]) -> List[FailureRow]:
    bad = sorted((r for r in tests if r.status != PASS), key=lambda r: FAILURE_ORDER[r.status])
    return [FailureRow(
        status=r.status, css=STATUS_CLASS[r.status], id=r.id, name=r.name, shortname=r.shortname,
        reason_line=r.reason_line, reason=(r.fail_reason or "").strip(),
        fail_class=r.fail_class or "", duration=hms(r.time), attempt=r.attempt,
        log_href=log_href(r.logdir, results_dir, out_dir),
        history=history(r.shortname) if history is not None else None,
    ) for r in bad[:MAX_FAILURE_ROWS]]


def measured_rows(tests: Sequence[TestResult]) -> Tuple[List[MeasuredRow], int]:
    """The job's metrics, test by test (at most MAX_FAILURE_ROWS; the count of the rest)."""
    rows = [MeasuredRow(r.id, str(m.name), f"{float(m.value):.6g}", str(m.unit), str(m.better))
            for r in tests for m in (getattr(r, "metrics", None) or ())]
    return rows[:MAX_FAILURE_ROWS], max(0, len(rows) - MAX_FAILURE_ROWS)


def time_axis(data: ResultsFile) -> TimeAxis:
    """The runs' [start, end] intervals (a run still going: up to its last result)."""
    last = max([r.end for r in data.tests] + [r.end for r in data.superseded] or [data.job.start])
    segments = []
    for run in data.job.runs:
        start = run.get("start")
        if isinstance(start, (int, float)):
            end = run.get("end")
            segments.append((float(start), float(end) if isinstance(end, (int, float)) else last))
    if not segments:
        segments = [(data.job.start or min([r.start for r in data.tests] or [0.0]), last)]
    # tests outside every run (clock steps, hand-made files) still get a place on the axis
    outside = [r for r in data.tests if not any(a <= r.start <= b for a, b in segments)]
    segments += [(r.start, r.end) for r in outside]
    return TimeAxis.from_segments(segments)


def build_view(data: ResultsFile, results_dir: Optional[Path] = None,
               out_dir: Optional[Path] = None,
               history: Optional[HistoryStrip] = None) -> ReportView:
    """Everything the template needs. ``out_dir`` is where the report goes (for its links)."""
    axis = time_axis(data)
    t0 = axis.starts[0]
    fails = failure_rows(data.tests, results_dir, out_dir, history)
    metrics, metrics_left_out = measured_rows(data.tests)
    return ReportView(
        header=header(data, results_dir, axis),
        summary=summary_rows(data.tests),
        failures=fails,
        failures_left_out=len(data.not_passed()) - len(fails),
        failures_history=any(f.history for f in fails),
        metrics=metrics,
        metrics_left_out=metrics_left_out,
        timeline=timeline_svg(data.tests, axis, data.superseded),
        tests_json=pack_tests(data.tests, [log_href(r.logdir, results_dir, out_dir) for r in data.tests],
                              t0),
        generated=_when(time.time()),
    )
