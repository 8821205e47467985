"""Metric rows of compare(): percent change, flagged only when the intervals do not overlap,
improvement or regression by the metric's `better`; and the MMTests-like table."""

from __future__ import annotations

import pytest

from kvmtest.compare import IMPROVEMENT, REGRESSION, UNCHANGED, compare
from kvmtest.compare.text import format_comparison
from kvmtest.results.records import Metric
from tests.compare.helpers import job, res


def side(prefix, shortname, name, values, unit="MB/s", better="higher"):
    """One job per value, each a PASS of ``shortname`` that recorded ``name`` = value."""
    out = []
    for i, v in enumerate(values):
        r = res(shortname)
        r.metrics = [Metric(name, v, unit, better)]
        out.append(job(f"{prefix}{i}", r))
    return out


def metric_row(base_values, dev_values, better="higher"):
    c = compare(side("b", "io", "bw", base_values, better=better),
                side("d", "io", "bw", dev_values, better=better))
    [row] = c.metrics
    return c, row


def test_a_real_drop_in_throughput_is_a_regression():
    c, row = metric_row([500, 510, 505, 495], [400, 405, 398, 402])
    assert row.significant and row.verdict == REGRESSION
    assert row.base_mean == 502.5 and row.dev_mean == 401.25
    assert row.change_pct == pytest.approx(-20.149, abs=0.001)
    assert c.regressed and c.tests[0].verdict == UNCHANGED  # the test passes: the metric says it


def test_lower_is_better_flips_the_verdict():
    _, row = metric_row([500, 510, 505], [400, 405, 398], better="lower")
    assert row.verdict == IMPROVEMENT
    _, row = metric_row([400, 405, 398], [500, 510, 505], better="lower")
    assert row.verdict == REGRESSION


def test_noise_is_not_flagged():
    c, row = metric_row([500, 300, 450, 350], [420, 380, 300, 500])  # -3 %, wide spread
    assert not row.significant and row.verdict == "" and not c.regressed
    # one value per side: nothing is known about the spread, never flagged
    c, row = metric_row([500], [100])
    assert row.change_pct == -80.0 and not row.significant and not c.regressed


def test_samples_within_one_run_count_like_runs():
    b = res("io")
    b.metrics = [Metric("bw", v, "MB/s") for v in (500, 502, 498)]
    d = res("io")
    d.metrics = [Metric("bw", v, "MB/s") for v in (450, 452, 448)]
    [row] = compare([job("b", b)], [job("d", d)]).metrics
    assert row.base == [500, 502, 498] and row.significant and row.verdict == REGRESSION


def test_a_metric_on_one_side_only():
    b = res("io")
    b.metrics = [Metric("bw", 1.0, "MB/s"), Metric("iops", 10.0, "", "higher")]
    d = res("io")
    d.metrics = [Metric("bw", 1.0, "MB/s")]
    rows = {m.name: m for m in compare([job("b", b)], [job("d", d)]).metrics}
    assert rows["iops"].dev == [] and rows["iops"].dev_mean is None
    assert rows["iops"].change_pct is None and rows["iops"].verdict == ""


def test_metric_table_marks_significance_like_mmtests():
    c = compare(side("b", "io", "bw", [500, 510, 505, 495]) + side("b", "net", "lat", [10, 11, 10.5], "us", "lower"),
                side("d", "io", "bw", [400, 405, 398, 402]) + side("d", "net", "lat", [10.6, 10, 11], "us", "lower"))
    text = format_comparison(c)
    io = next(ln for ln in text.splitlines() if ln.startswith("io "))
    assert io.split() == ["io", "bw", "MB/s", "higher", "502.50", "401.25", "*-20.15%*", "4/4",
                          "regression"]
    net = next(ln for ln in text.splitlines() if ln.startswith("net "))
    assert "(+0.32%)" in net and "regression" not in net
    assert text.rstrip().endswith("REGRESSED")
