"""The report's comparison section: two real jobs with known differences."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kvmtest import exitcodes
from kvmtest.history import HistoryStore
from tests.clirun import run_cli
from tests.report.dom import parse

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("indexed", [False, True], ids=["no-history", "both-indexed"])
def test_report_with_a_baseline_lists_each_verdict(two_jobs, tmp_path, indexed):
    """Without a history, and with one holding both jobs (as every run indexes itself): the
    dev job's own 1.6 s must not widen the spread that judges its slowdown."""
    base, dev = two_jobs
    out = tmp_path / "r.html"
    history = tmp_path / "history.db"
    if indexed:
        with HistoryStore(history) as store:
            store.import_dir(base)
            store.import_dir(dev)
    with pytest.MonkeyPatch.context() as mp:  # ./run.py report, in this process (tests/clirun.py)
        mp.setenv("KVMTEST_HISTORY", str(history))
        res = run_cli("report", dev, "--baseline", base, "-o", out)
    assert res.returncode == 0, res.stderr  # the report was written; `compare` is the gate
    doc = parse(out.read_text())
    section = doc.by_id("comparison")
    tables = {t.attrs["data-verdict"]: [tr.find_all("td")[0].text() for tr in t.find_all("tr")[1:]]
              for t in section.find_all("table") if "data-verdict" in t.attrs}
    assert tables == {"regression": ["a"], "new": ["added"], "removed": ["gone"], "fix": ["b"]}
    assert doc.by_id("compare-verdict").text().startswith("REGRESSED")
    (slower,) = doc.by_id("durations").find_all("tr")[1:]
    assert slower.find_all("td")[0].text() == "slow" and slower.find_all("td")[-1].text() == "slower"
    # the regression's row links to this job's log of it
    (link,) = [tr for t in section.find_all("table") if t.attrs.get("data-verdict") == "regression"
               for tr in t.find_all("tr")[1:]][0].find_all("a")
    assert (out.parent / link.attrs["href"]).resolve() == (dev / "tests/localhost-q1/1-a/debug.log")


def test_a_bad_baseline_is_bad_input(two_jobs, tmp_path):
    _, dev = two_jobs
    res = subprocess.run([sys.executable, "-m", "kvmtest.report", str(dev), "--baseline",
                          str(tmp_path)], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert res.returncode == exitcodes.BAD_INPUT
    assert f"--baseline {tmp_path}: not a results directory" in res.stderr, res.stderr


def test_rows_give_the_reason_and_numbers_as_compare_prints_them():
    """The report shows TestRow.why and compare's own number format (kvmtest.compare.text's
    public num/pct), so the page and `kvmtest compare` never disagree."""
    from kvmtest.compare import compare
    from kvmtest.compare.text import format_comparison, num, pct
    from kvmtest.report.comparison import comparison_view
    from tests.compare.helpers import job, res

    base = job("b", res("a"), res("b", "FAIL", reason="old oops"), res("c", "FAIL", reason="x"),
               res("gone", "FAIL", reason="went away"))
    dev = job("d", res("a", "FAIL", reason="new oops"), res("b"), res("c", "FAIL", reason="y"))
    c = compare([base], [dev], flaky={"a"})
    view = comparison_view(c)
    shown = {row.shortname: row.reason for g in view.groups for row in g.rows}
    assert shown == {r.shortname: r.why for r in c.tests}
    assert shown["a"] == "flaky on base (history); new oops" and shown["c"] == "y (was: x)"
    assert shown["b"] == "old oops" and shown["gone"] == "went away"
    text = format_comparison(c)
    assert all(why in text for why in shown.values())
    assert (pct(12.345, True), pct(-1.0, False), pct(None, True)) == ("*+12.35%*", "(-1.00%)", "-")
    assert (num(3.14159), num(None)) == ("3.14", "-")
