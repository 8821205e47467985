"""compare() on hand-built results: every verdict, flakiness, Fisher, durations."""

from __future__ import annotations

import json

import pytest

from kvmtest.compare import (
    FASTER,
    FIX,
    FLAKY,
    INFRA,
    NEW,
    NOT_COMPARABLE,
    REGRESSION,
    REMOVED,
    SLOWER,
    STILL_FAILING,
    SUSPECTED,
    UNCHANGED,
    VERDICTS,
    compare,
    run_kind,
)
from tests.compare.helpers import job, res, runs


def verdicts(c):
    return {r.shortname: r.verdict for r in c.tests}


def test_one_run_per_side_every_verdict():
    base = job("base",
               res("ok"), res("broken"), res("fixed", "FAIL"), res("bad", "FAIL", reason="oops"),
               res("worse", "FAIL", reason="old reason"), res("gone"), res("env"),
               res("skipped"), res("hang"), res("crash"), res("stopped"))
    dev = job("dev",
              res("ok"), res("broken", "FAIL"), res("fixed"), res("bad", "FAIL", reason="oops"),
              res("worse", "ERROR", "TestError", reason="new reason"), res("added", "FAIL"),
              res("env", "ERROR", "EnvError", reason="cannot load env file"),
              res("skipped", "SKIP", "DependencyNotMet"),
              res("hang", "INTERRUPTED", "TestTimeout", reason="timed out after 5 s"),
              res("crash", "ERROR", "TestError", reason="qemu died"),
              res("stopped", "INTERRUPTED", "JobInterrupted", reason="SIGINT"))
    c = compare([base], [dev])
    assert verdicts(c) == {
        "ok": UNCHANGED, "broken": REGRESSION, "fixed": FIX, "bad": STILL_FAILING,
        "worse": STILL_FAILING, "gone": REMOVED, "added": NEW, "env": INFRA,
        "skipped": NOT_COMPARABLE, "hang": REGRESSION, "crash": REGRESSION,
        "stopped": NOT_COMPARABLE,
    }
    rows = {r.shortname: r for r in c.tests}
    assert not rows["bad"].reason_changed
    assert rows["worse"].reason_changed and "was: old reason" in rows["worse"].evidence
    assert rows["worse"].why == "new reason (was: old reason)"
    assert rows["fixed"].why == "fixed went wrong"  # a fix shows what the baseline had
    assert rows["broken"].why == "broken went wrong" and rows["ok"].why == ""
    assert rows["broken"].evidence == "PASS -> FAIL" and rows["broken"].p_value is None
    assert rows["env"].evidence == "PASS -> ERROR (EnvError)"
    assert rows["env"].dev.reason == "cannot load env file" and rows["env"].dev.infra == 1
    assert c.regressed
    assert [r.verdict for r in c.tests] == sorted((r.verdict for r in c.tests), key=VERDICTS.index)
    assert c.counts()[REGRESSION] == 3 and sum(c.counts().values()) == 12
    assert c.base_jobs == ["base"] and c.dev_jobs == ["dev"]


def test_identical_sides_have_no_regression():
    a = job("a", res("x"), res("y", "FAIL"), res("z", "SKIP"))
    c = compare([a], [a])
    assert verdicts(c) == {"x": UNCHANGED, "y": STILL_FAILING, "z": NOT_COMPARABLE}
    assert not c.regressed


def test_keyed_by_shortname_across_hosts_and_queues():
    base = job("b", res("t", host="h1", queue="q1"))
    dev = job("d", res("t", "FAIL", host="h2", queue="q7"))
    c = compare([base], [dev])
    assert verdicts(c) == {"t": REGRESSION}
    assert c.tests[0].dev.last_id == "h2/q7/1-t" and c.tests[0].dev.last_job == "d"


@pytest.mark.parametrize("infra_class", ["EnvError", "RunnerError", "RunnerKilled", "HostLost",
                                         "ParamError", "InfraError"])
def test_infrastructure_errors_are_not_test_failures(infra_class):
    status = "INTERRUPTED" if infra_class in ("RunnerKilled", "HostLost") else "ERROR"
    r = res("t", status, infra_class)
    assert run_kind(r) == "infra"
    assert verdicts(compare([job("b", res("t"))], [job("d", r)])) == {"t": INFRA}
    assert verdicts(compare([job("b", r)], [job("d", res("t"))])) == {"t": INFRA}
    # one infra error among real runs is left out of the counts
    c = compare([job("b", res("t"))], [job("d", res("t")), job("d2", r)])
    assert verdicts(c) == {"t": UNCHANGED} and c.tests[0].dev.infra == 1


def test_mixed_baseline_is_flaky_not_a_regression():
    base = runs("t", 4, failing=1, prefix="b")
    c = compare(base, [job("d", res("t", "FAIL"))])
    assert verdicts(c) == {"t": FLAKY}
    assert c.tests[0].p_value == pytest.approx(0.4)  # 2 failures of 5 runs, dev drew 1
    assert not c.regressed


def test_flaky_per_history_demotes_a_one_run_regression():
    c = compare([job("b", res("t"))], [job("d", res("t", "FAIL"))], flaky={"t"})
    row = c.tests[0]
    assert row.verdict == FLAKY and row.flaky_on_base and "flaky on base (history)" in row.evidence
    assert row.why == "flaky on base (history); t went wrong"
    assert not c.regressed
    # a one-run fix of a history-flaky test is no fix either
    assert verdicts(compare([job("b", res("t", "FAIL"))], [job("d", res("t"))],
                            flaky={"t"})) == {"t": FLAKY}


def test_fisher_decides_with_several_runs():
    # §3.4: dev 5/5 fail vs base 1/20 -> p = 0.00011: a regression in spite of the flaky base
    c = compare(runs("t", 20, 1, "b"), runs("t", 5, 5, "d"))
    assert verdicts(c) == {"t": REGRESSION} and c.tests[0].p_value == pytest.approx(0.00011, 0.03)
    assert "1/20 failed -> 5/5 failed, p=0.00011" in c.tests[0].evidence
    # dev 1/1 vs base 1/20 -> 0.095: flaky, not a regression
    c = compare(runs("t", 20, 1, "b"), runs("t", 1, 1, "d"))
    assert verdicts(c) == {"t": FLAKY} and c.tests[0].p_value == pytest.approx(0.095, 0.03)
    # dev 2/5 vs 6/20 -> 0.53
    c = compare(runs("t", 20, 6, "b"), runs("t", 5, 2, "d"))
    assert verdicts(c) == {"t": FLAKY} and c.tests[0].p_value == pytest.approx(0.53, 0.03)


def test_clean_baseline_and_partly_failing_dev_is_suspected_until_significant():
    c = compare(runs("t", 5, 0, "b"), runs("t", 5, 2, "d"))  # p = C(5,2)/C(10,2) = 0.22
    assert verdicts(c) == {"t": SUSPECTED} and c.tests[0].p_value == pytest.approx(10 / 45)
    assert not c.regressed
    c = compare(runs("t", 20, 0, "b"), runs("t", 10, 6, "d"))
    assert verdicts(c) == {"t": REGRESSION} and c.tests[0].p_value < 0.05
    # failing every dev run on a clean baseline: a regression however few runs
    c = compare(runs("t", 3, 0, "b"), runs("t", 2, 2, "d"))
    assert verdicts(c) == {"t": REGRESSION} and c.tests[0].p_value is None  # no test needed


def test_fix_with_several_runs():
    assert verdicts(compare(runs("t", 3, 3, "b"), runs("t", 3, 0, "d"))) == {"t": FIX}
    # a baseline failing half of 20 runs, dev clean in 10: significant, a fix
    c = compare(runs("t", 20, 10, "b"), runs("t", 10, 0, "d"))
    assert verdicts(c) == {"t": FIX} and c.tests[0].p_value < 0.01
    # always failing before, failing 2 of 3 now: not (yet) a fix
    assert verdicts(compare(runs("t", 3, 3, "b"), runs("t", 3, 2, "d"))) == {"t": STILL_FAILING}


def durations_row(base_secs, dev_secs, **kw):
    base = [job(f"b{i}", res("t", seconds=s)) for i, s in enumerate(base_secs)]
    dev = [job(f"d{i}", res("t", seconds=s)) for i, s in enumerate(dev_secs)]
    [row] = compare(base, dev, **kw).durations
    return row


def test_durations_flag_only_what_the_spread_supports():
    row = durations_row([10.0, 10.5, 9.5, 10.2], [20.0, 19.5, 20.5, 20.1])
    assert row.verdict == SLOWER and row.rule == "ci" and row.change_pct == pytest.approx(99.25, 0.001)
    assert durations_row([20.0, 19.5, 20.5], [10.0, 10.5, 9.5]).verdict == FASTER
    # noisy runs whose intervals overlap: no verdict even though the means differ by 30 %
    assert durations_row([10.0, 20.0, 5.0, 15.0], [13.0, 25.0, 8.0, 19.0]).verdict == ""
    # a real but tiny change (under min_duration_change seconds) is not worth a line
    assert durations_row([0.10, 0.10, 0.10], [0.20, 0.20, 0.20]).verdict == ""
    assert durations_row([0.10, 0.10, 0.10], [0.20, 0.20, 0.20],
                         min_duration_change=0.05).verdict == SLOWER


def test_durations_with_one_run_per_side():
    assert durations_row([10.0], [12.5]).verdict == SLOWER  # +25 % > 20 %
    assert durations_row([10.0], [11.5]).verdict == ""  # +15 %
    assert durations_row([10.0], [7.0]).verdict == FASTER
    # the history's spread (MAD 2 s: 3 MAD = 6 s) makes +25 % ordinary
    assert durations_row([10.0], [12.5], duration_history={"t": [6, 8, 10, 12, 14]}).verdict == ""


def test_only_pass_runs_have_durations():
    c = compare([job("b", res("t", seconds=1.0))], [job("d", res("t", "FAIL", seconds=50.0))])
    assert c.durations == []


def test_json_is_complete_and_serialisable():
    c = compare([job("b", res("x"), res("y"))], [job("d", res("x", "FAIL"), res("z"))])
    doc = json.loads(json.dumps(c.to_json()))
    assert doc["regressed"] is True
    assert doc["counts"][REGRESSION] == 1 and doc["counts"][NEW] == 1
    assert doc["counts"][REMOVED] == 1
    x = next(t for t in doc["tests"] if t["shortname"] == "x")
    assert x["base"]["passed"] == 1 and x["dev"]["failed"] == 1 and x["dev"]["runs"] == 1
    assert x["dev"]["reason"] == "x went wrong" and x["dev"]["last_logdir"].endswith("1-x")
    assert "_last_start" not in x["dev"] and x["why"] == "x went wrong"


def test_reason_is_the_latest_failures_whatever_the_order_of_the_jobs():
    old = res("t", "FAIL", reason="old reason")
    newer_pass = res("t")
    new = res("t", "FAIL", reason="new reason")
    new.start, new.end = old.start + 0.5, old.start + 1.5  # after `old`, before `newer_pass`
    c = compare([job("b", res("t"))], [job("d1", old), job("d2", newer_pass), job("d3", new)])
    side = c.tests[0].dev
    assert side.reason == "new reason" and side.last_status == "PASS"
    assert (side.passed, side.failed) == (1, 2)
