"""``compare(base, dev) -> Comparison``: per-test verdicts, duration and metric changes.

The field names of the dataclasses here are an interface (the HTML report renders
them, ``--format json`` prints them): add fields, do not rename them. The rules are
documented in the package docstring (kvmtest/compare/__init__.py) and docs/compare.md.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any, Collection, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from kvmtest.compare.stats import cis_overlap, fisher_greater, mad, outside_prediction
from kvmtest.results.records import (
    ERROR,
    FAIL,
    INFRA_CLASSES,
    INTERRUPTED,
    PASS,
    SKIP,
    TIMEOUT_CLASS,
    TestResult,
)
from kvmtest.results.store import ResultsFile

# --- verdicts of a test, in report order (regressions first) ------------------------------
REGRESSION = "regression"  # passed on base, fails on dev, and the runs say it is real
SUSPECTED = "suspected"  # fails more on dev, but too few runs to be sure: re-run
FLAKY = "flaky"  # flaky on the baseline: a dev failure is no evidence of a regression
STILL_FAILING = "still failing"
NEW = "new"  # only on dev
REMOVED = "removed"  # only on base
INFRA = "infra error"  # a side has only infrastructure errors: fix the lab, not the kernel
NOT_COMPARABLE = "not comparable"  # a side has only SKIP / stopped runs
FIX = "fix"
UNCHANGED = "unchanged"  # passes on both sides

VERDICTS = (REGRESSION, SUSPECTED, FLAKY, STILL_FAILING, NEW, REMOVED, INFRA, NOT_COMPARABLE,
            FIX, UNCHANGED)

# --- what one run counts as: INFRA_CLASSES (kvmtest.results.records) ------------------------

SLOWER = "slower"
FASTER = "faster"
IMPROVEMENT = "improvement"
HIGHER = "higher"
LOWER = "lower"


def run_kind(r: TestResult) -> str:
    """'pass', 'fail', 'infra', 'skip' or 'stopped'.

    A FAIL, or an ERROR the test raised (a qemu that died, a guest that hung), is a
    test failure; so is a test stopped by its own timeout (INTERRUPTED, TestTimeout):
    a hang is what many kernel regressions look like. An INFRA_CLASSES run is an
    infrastructure error; a SKIP or a run stopped by the user is neither.
    """
    if r.status == PASS:
        return "pass"
    if r.fail_class in INFRA_CLASSES:
        return "infra"
    if r.status in (FAIL, ERROR) or (r.status == INTERRUPTED and r.fail_class == TIMEOUT_CLASS):
        return "fail"
    if r.status == SKIP:
        return "skip"
    return "stopped"


@dataclass
class SideRuns:
    """One side's runs of one test (latest attempt of each, any job, any host)."""

    passed: int = 0
    failed: int = 0
    infra: int = 0
    skipped: int = 0
    stopped: int = 0
    reason: str = ""  # the latest failed (or infra) run's reason, first line
    durations: List[float] = field(default_factory=list)  # of PASS runs, seconds
    last_status: str = ""  # status of the latest run ("" when none)
    last_class: str = ""  # its fail_class
    last_id: str = ""  # its test id (<host>/<queue>/<n>-<shortname>)
    last_job: str = ""  # its job id
    last_logdir: str = ""  # its logdir, relative to that job's results directory
    _last_start: float = field(default=-1.0, repr=False)
    _reason_start: float = field(default=-1.0, repr=False)

    @property
    def runs(self) -> int:
        return self.passed + self.failed + self.infra + self.skipped + self.stopped

    @property
    def comparable(self) -> int:
        """Runs that passed or failed (the counts verdicts are drawn from)."""
        return self.passed + self.failed

    def add(self, r: TestResult, job_id: str) -> None:
        kind = run_kind(r)
        if kind == "pass":
            self.passed += 1
            self.durations.append(r.end - r.start if r.end > r.start else 0.0)
        elif kind == "fail":
            self.failed += 1
        elif kind == "infra":
            self.infra += 1
        elif kind == "skip":
            self.skipped += 1
        else:
            self.stopped += 1
        if r.start >= self._last_start:
            self._last_start = r.start
            self.last_status, self.last_class = r.status, r.fail_class or ""
            self.last_id, self.last_job, self.last_logdir = r.id, job_id, r.logdir
        if kind in ("fail", "infra") and r.start >= self._reason_start:
            self._reason_start = r.start
            self.reason = r.reason_line

    def describe(self) -> str:
        """'PASS', 'ERROR (EnvError)' for one run; '2/5 failed, 1 infra' for several."""
        if self.runs == 0:
            return "-"
        if self.runs == 1:
            shown = self.last_class and self.last_status not in (PASS, FAIL)
            return self.last_status + (f" ({self.last_class})" if shown else "")
        parts = [f"{self.failed}/{self.comparable} failed" if self.comparable else "0 comparable"]
        parts += [f"{n} {what}" for n, what in ((self.infra, "infra"), (self.skipped, "skipped"),
                                                (self.stopped, "stopped")) if n]
        return ", ".join(parts)

    def to_json(self) -> Dict[str, Any]:
        d = asdict(self)
        d.pop("_last_start")
        d.pop("_reason_start")
        d["runs"] = self.runs
        return d


@dataclass
class TestRow:
    """The verdict on one test (keyed by shortname) and why."""

    __test__ = False  # not a pytest class

    shortname: str
    verdict: str  # one of VERDICTS
    evidence: str  # "PASS -> FAIL", "1/20 failed -> 5/5 failed, p=0.00011", ...
    base: SideRuns
    dev: SideRuns
    p_value: Optional[float] = None  # one-sided Fisher p, when the Fisher test decided the verdict
    reason_changed: bool = False  # still failing, but for another reason
    flaky_on_base: bool = False  # the history says so (mixed base runs show in base counts)

    @property
    def why(self) -> str:
        """The reason a person reads: dev's failure (base's for a fix or a removed test),
        what it was when it changed, and whether the history calls the test flaky."""
        side = self.base if self.verdict in (FIX, REMOVED) else self.dev
        reason = side.reason or self.base.reason
        if self.reason_changed:
            reason = f"{self.dev.reason} (was: {self.base.reason})"
        if self.flaky_on_base:
            reason = ("flaky on base (history); " + reason).rstrip("; ")
        return reason

    def to_json(self) -> Dict[str, Any]:
        return {"shortname": self.shortname, "verdict": self.verdict, "evidence": self.evidence,
                "p_value": self.p_value, "reason_changed": self.reason_changed,
                "flaky_on_base": self.flaky_on_base, "why": self.why, "base": self.base.to_json(),
                "dev": self.dev.to_json()}


@dataclass
class DurationRow:
    """Durations of one test's PASS runs on both sides; ``verdict`` is set only when real."""

    shortname: str
    base: List[float]
    dev: List[float]
    base_mean: float
    dev_mean: float
    change_pct: Optional[float]  # None when the base mean is 0
    verdict: str  # SLOWER, FASTER or "" (no change the spread supports)
    rule: str  # "ci" (both sides >= 2 runs) or "threshold" (the one-run rule)

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass
class MetricRow:
    """One metric of one test on both sides (all runs that recorded it)."""

    shortname: str
    name: str
    unit: str
    better: str  # HIGHER or LOWER
    base: List[float]
    dev: List[float]
    base_mean: Optional[float]  # None when that side did not record it
    dev_mean: Optional[float]
    change_pct: Optional[float]  # None when a side lacks it or the base mean is 0
    significant: bool  # by ``rule``
    verdict: str  # IMPROVEMENT, REGRESSION or "" (not significant)
    # "ci": >= 2 values per side, 95 % intervals apart; "history": one side had a single
    # value, judged against the prediction interval of the history's earlier values;
    # "": neither applies (a single value and no history to say what is usual)
    rule: str = ""

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass
class Comparison:
    """Everything ``compare`` found; ``tests`` holds one row per shortname, VERDICTS order."""

    base_jobs: List[str]
    dev_jobs: List[str]
    tests: List[TestRow]
    durations: List[DurationRow]
    metrics: List[MetricRow]
    alpha: float = 0.05

    def rows(self, verdict: str) -> List[TestRow]:
        return [r for r in self.tests if r.verdict == verdict]

    def counts(self) -> Dict[str, int]:
        """Tests per verdict, every verdict present (0 when none)."""
        c = {v: 0 for v in VERDICTS}
        for r in self.tests:
            c[r.verdict] += 1
        return c

    @property
    def regressed(self) -> bool:
        """A significant regression: a test REGRESSION or a metric REGRESSION (CI exit 1).
        SUSPECTED, FLAKY and slower durations are shown but do not fail the comparison."""
        return any(r.verdict == REGRESSION for r in self.tests) or \
            any(m.verdict == REGRESSION for m in self.metrics)

    def to_json(self) -> Dict[str, Any]:
        return {"base_jobs": self.base_jobs, "dev_jobs": self.dev_jobs, "alpha": self.alpha,
                "regressed": self.regressed, "counts": self.counts(),
                "tests": [r.to_json() for r in self.tests],
                "durations": [d.to_json() for d in self.durations],
                "metrics": [m.to_json() for m in self.metrics]}


def compare(base: Sequence[ResultsFile], dev: Sequence[ResultsFile], *,
            flaky: Collection[str] = (), alpha: float = 0.05,
            min_duration_change: float = 1.0,
            duration_history: Optional[Mapping[str, Sequence[float]]] = None,
            metric_history: Optional[Mapping[Tuple[str, str], Sequence[float]]] = None
            ) -> Comparison:
    """Compare the runs of ``base`` (baseline) with those of ``dev``, test by shortname.

    ``flaky``: shortnames the history calls flaky on the baseline. ``alpha``: the
    significance level of the Fisher test. ``min_duration_change``: seconds below which
    a duration change is never flagged. ``duration_history``: earlier PASS durations per
    shortname, whose spread (MAD) the one-run-per-side duration rule uses.
    ``metric_history``: earlier values per (shortname, metric), which judge a metric with a
    single value on a side (``stats.outside_prediction``, at least 3 earlier values).
    """
    b_sides, b_metrics = _collect(base)
    d_sides, d_metrics = _collect(dev)
    flaky_set = set(flaky)
    rows = []
    for name in sorted(set(b_sides) | set(d_sides)):
        b, d = b_sides.get(name, SideRuns()), d_sides.get(name, SideRuns())
        verdict, p, changed = _verdict(b, d, name in flaky_set, alpha)
        evidence = f"{b.describe()} -> {d.describe()}"
        if p is not None:
            evidence += f", p={p:.2g}"
        if name in flaky_set:
            evidence += ", flaky on base (history)"
        if changed:
            evidence += f"; reason was: {b.reason}"
        rows.append(TestRow(name, verdict, evidence, b, d, p, changed, name in flaky_set))
    rows.sort(key=lambda r: VERDICTS.index(r.verdict))
    durations = [_durations(name, b_sides[name].durations, d_sides[name].durations,
                            min_duration_change, (duration_history or {}).get(name, ()))
                 for name in sorted(set(b_sides) & set(d_sides))
                 if b_sides[name].durations and d_sides[name].durations]
    metrics = [_metric(key, b_metrics.get(key), d_metrics.get(key),
                       (metric_history or {}).get(key, ()))
               for key in sorted(set(b_metrics) | set(d_metrics))]
    return Comparison([f.job.job_id for f in base], [f.job.job_id for f in dev], rows, durations,
                      metrics, alpha)


_MetricKey = Tuple[str, str]  # (shortname, metric name)
_MetricRuns = Tuple[str, str, List[float]]  # (unit, better, values)


def _collect(files: Iterable[ResultsFile]
             ) -> Tuple[Dict[str, SideRuns], Dict[_MetricKey, _MetricRuns]]:
    sides: Dict[str, SideRuns] = {}
    metrics: Dict[_MetricKey, _MetricRuns] = {}
    for f in files:
        for r in f.tests:
            side = sides.get(r.shortname)
            if side is None:
                side = sides[r.shortname] = SideRuns()
            side.add(r, f.job.job_id)
            for m in r.metrics:
                unit, better, values = metrics.setdefault((r.shortname, m.name),
                                                          (m.unit, m.better, []))
                values.append(float(m.value))
    return sides, metrics


def _verdict(b: SideRuns, d: SideRuns, flaky: bool, alpha: float
             ) -> Tuple[str, Optional[float], bool]:
    """(verdict, Fisher p or None, reason changed). The rules: kvmtest/compare/__init__.py."""
    if b.runs == 0:
        return NEW, None, False
    if d.runs == 0:
        return REMOVED, None, False
    if not b.comparable or not d.comparable:
        infra = (not b.comparable and b.infra) or (not d.comparable and d.infra)
        return (INFRA if infra else NOT_COMPARABLE), None, False
    bn, bf, dn, df = b.comparable, b.failed, d.comparable, d.failed
    if bf == 0 and df == 0:
        return UNCHANGED, None, False
    if bf == bn and df == dn:
        return STILL_FAILING, None, b.reason != d.reason
    if not flaky and bf == 0:  # a clean baseline: fails every dev run = regression
        if df == dn:
            return REGRESSION, None, False
        p = fisher_greater(bf, bn, df, dn)
        return (REGRESSION if p < alpha else SUSPECTED), p, False
    if not flaky and bf == bn:  # failed every base run
        if df == 0:
            return FIX, None, False
        p = fisher_greater(df, dn, bf, bn)
        return (FIX if p < alpha else STILL_FAILING), p, False
    # a mixed (or history-flaky) baseline: only a significant difference is a verdict
    if df * bn > bf * dn:
        p = fisher_greater(bf, bn, df, dn)
        return (REGRESSION if p < alpha else FLAKY), p, False
    p = fisher_greater(df, dn, bf, bn)
    return (FIX if p < alpha else FLAKY), p, False


def _pct(base: float, dev: float) -> Optional[float]:
    return None if base == 0 else (dev - base) / abs(base) * 100.0


def _durations(name: str, base: List[float], dev: List[float], floor: float,
               history: Sequence[float]) -> DurationRow:
    bm, dm = statistics.fmean(base), statistics.fmean(dev)
    delta = dm - bm
    if len(base) >= 2 and len(dev) >= 2:
        rule = "ci"
        real = not cis_overlap(base, dev) and abs(delta) > floor
    else:  # one run on a side: its spread is unknown; ask for a large change
        rule = "threshold"
        spread = mad(history) if len(history) >= 2 else mad(max(base, dev, key=len))
        real = abs(delta) > max(0.20 * bm, 3 * spread, floor)
    verdict = (SLOWER if delta > 0 else FASTER) if real else ""
    return DurationRow(name, base, dev, bm, dm, _pct(bm, dm), verdict, rule)


def _metric(key: _MetricKey, b: Optional[_MetricRuns], d: Optional[_MetricRuns],
            history: Sequence[float] = ()) -> MetricRow:
    unit, better = (b or d or ("", HIGHER))[:2]
    bv, dv = (b[2] if b else []), (d[2] if d else [])
    bm = statistics.fmean(bv) if bv else None
    dm = statistics.fmean(dv) if dv else None
    change = _pct(bm, dm) if bm is not None and dm is not None else None
    rule = ""
    significant = False
    if len(bv) >= 2 and len(dv) >= 2:
        rule = "ci"
        significant = not cis_overlap(bv, dv)
    elif bv and dv and len(history) >= 3:
        rule = "history"
        significant = outside_prediction(history, dv)
    verdict = ""
    if significant and bm is not None and dm is not None and dm != bm:
        up = dm > bm
        verdict = IMPROVEMENT if up == (better == HIGHER) else REGRESSION
    return MetricRow(key[0], key[1], unit, better, bv, dv, bm, dm, change, significant, verdict,
                     rule)
