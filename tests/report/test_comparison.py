"""The report's comparison section: two real jobs with known differences."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kvmtest import exitcodes
from kvmtest.history import HistoryStore
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
    env = dict(os.environ, KVMTEST_HISTORY=str(history))
    res = subprocess.run([sys.executable, str(REPO / "run.py"), "report", str(dev), "--baseline",
                          str(base), "-o", str(out)], capture_output=True, text=True, timeout=60,
                         env=env)
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
