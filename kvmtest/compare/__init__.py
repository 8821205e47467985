"""Compare a baseline's runs with a dev side's runs: per-test verdicts, durations, metrics.

A pure library over ``ResultsFile`` objects (``kvmtest compare`` is its command line,
the HTML report renders its ``Comparison``)::

    from kvmtest.compare import compare
    c = compare([load_results("results/base")], [load_results("results/dev")])
    c.regressed, c.counts(), [row.shortname for row in c.rows("regression")]

``kvmtest.compare.sides`` turns what a user names into ``ResultsFile`` lists (results
directories, or job ids and tag selections of the history) and asks the history which
tests are flaky on the baseline (``flaky_on_base``) and how durations vary;
``compare_with_history(base, dev, history)`` is ``compare`` with both, asked only for the
tests whose verdict they can change.

Tests are matched by ``shortname`` (the name without host and queue), so runs on other
hosts or queues compare. Each side may hold several jobs (several runs of a test): every
run's latest attempt counts, on any host.

**What a run counts as** (``run_kind``): PASS is a pass. FAIL, an ERROR the test raised,
and an INTERRUPTED ``TestTimeout`` (a hang) are failures. An ERROR or INTERRUPTED whose
``fail_class`` is in ``INFRA_CLASSES`` (EnvError, RunnerError, RunnerKilled, HostLost,
ParamError, InfraError) is an infrastructure error; SKIP and user-stopped runs
(``JobInterrupted``) are neither. Only passes and failures are compared.

**Verdicts** (``VERDICTS``, in report order), with b/d = failures of comparable runs:

- ``new`` / ``removed``: no run on base / on dev.
- ``infra error``: a side has no comparable run and some infrastructure error;
  ``not comparable``: a side has only SKIP / stopped runs.
- ``unchanged``: no failure on either side. ``still failing``: every run failed on both
  sides; ``reason_changed`` when the latest failure's first reason line differs.
- Clean baseline (no failure, not flaky in the history): a test failing *every* dev run is
  a ``regression`` (tests are deterministic until shown otherwise, as kdevops and KernelCI
  assume; one run per side is enough). Some dev runs failing: one-sided Fisher exact test
  on the pass/fail counts, p < ``alpha`` (0.05) ``regression``, else ``suspected`` (re-run).
- Baseline failing every run: all dev runs pass is a ``fix``; some do: Fisher (fewer
  failures on dev), ``fix`` if significant, else ``still failing``.
- Mixed baseline (it both passed and failed), or a test the history calls flaky (the
  ``flaky`` argument): only a significant Fisher test is a verdict (``regression`` or
  ``fix``); otherwise it is ``flaky``, not a regression.

**Durations** (PASS runs of tests on both sides, ``DurationRow``): ``slower``/``faster``
only when real: with >= 2 runs per side when the 95 % confidence intervals of the means
do not overlap (Student t, MMTests' rule); with one run on a side when
``|Δ| > max(20 % of base, 3·MAD)``, MAD from ``duration_history`` (or the side with more
runs). Never for a change under ``min_duration_change`` seconds (1.0).

**Metrics** (``MetricRow``, from ``TestResult.metrics`` of every run that recorded them):
change in percent of the means; ``significant`` when both sides have >= 2 values and
the 95 % intervals do not overlap (MMTests' ``*``); then ``improvement`` or
``regression`` by the metric's ``better`` (``higher``/``lower``).

``Comparison.regressed`` (exit status 1 of ``kvmtest compare``): a test ``regression``
or a metric ``regression``. ``suspected``, ``flaky`` and slower durations do not count.

Stable field names (add, never rename): ``Comparison``: base_jobs, dev_jobs, tests,
durations, metrics, alpha, rows(verdict), counts(), regressed, to_json().
``TestRow``: shortname, verdict, evidence, base, dev (``SideRuns``), p_value,
reason_changed, flaky_on_base, why (the reason line the table shows). ``SideRuns``: passed, failed, infra, skipped, stopped,
runs, comparable, reason, durations, last_status, last_class, last_id, last_job,
last_logdir, describe(). ``DurationRow``: shortname, base, dev, base_mean, dev_mean,
change_pct, verdict, rule. ``MetricRow``: shortname, name, unit, better, base, dev,
base_mean, dev_mean, change_pct, significant, verdict.
"""

from kvmtest.compare.core import (
    FASTER,
    FIX,
    FLAKY,
    HIGHER,
    IMPROVEMENT,
    INFRA,
    INFRA_CLASSES,
    LOWER,
    NEW,
    NOT_COMPARABLE,
    REGRESSION,
    REMOVED,
    SLOWER,
    STILL_FAILING,
    SUSPECTED,
    UNCHANGED,
    VERDICTS,
    Comparison,
    DurationRow,
    MetricRow,
    SideRuns,
    TestRow,
    compare,
    run_kind,
)
from kvmtest.compare.sides import (
    SideError,
    compare_with_history,
    flaky_on_base,
    load_side,
    open_history,
)
from kvmtest.compare.stats import fisher_greater

__all__ = [
    "FASTER", "FIX", "FLAKY", "HIGHER", "IMPROVEMENT", "INFRA", "INFRA_CLASSES", "LOWER", "NEW",
    "NOT_COMPARABLE", "REGRESSION", "REMOVED", "SLOWER", "STILL_FAILING", "SUSPECTED",
    "UNCHANGED", "VERDICTS", "Comparison", "DurationRow", "MetricRow", "SideError", "SideRuns",
    "TestRow", "compare", "compare_with_history", "fisher_greater", "flaky_on_base", "load_side", "open_history",
    "run_kind",
]
