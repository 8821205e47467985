"""History strips in the failures list, from the runs of real jobs."""

from __future__ import annotations

from kvmtest.report import render_report
from kvmtest.report.history import PastRun, strip, strips
from kvmtest.results import load_results
from tests.report.dom import parse


def runs_of(*dirs):
    """shortname -> PastRun list (oldest first) over the jobs in ``dirs``: a history in memory."""
    out = {}
    for d in dirs:
        data = load_results(d)
        for r in data.tests:
            out.setdefault(r.shortname, []).append(PastRun(data.job.job_id, r.status, r.start, r.time))
    return lambda shortname: sorted(out.get(shortname, []), key=lambda p: p.start)


def test_failures_get_a_strip_of_their_last_runs(two_jobs):
    base, dev = two_jobs
    data = load_results(dev)
    html = render_report(data, dev, history=strips(runs_of(base, base, dev), data))
    doc = parse(html)
    (row,) = doc.find_all("tr", "failure")  # test a: PASS on base (twice here), FAIL on dev
    (cell,) = row.find_all("td", "history")
    squares = cell.find_all("svg", "strip")[0].find_all("rect")
    assert [sq.attrs["class"] for sq in squares] == ["s0", "s0", "s1"]  # oldest first, this job last
    assert f"job {data.job.job_id}: FAIL " in squares[-1].find_all("title")[0].text()
    assert cell.find_all("svg", "spark")  # two PASS durations: a trend line


def test_no_strip_without_history():
    assert strip([]) is None
    assert strip([PastRun("j", "FAIL", 1.0, 2.0)]) is None  # one run: nothing to show
    two = strip([PastRun("j1", "PASS", 1.0, 2.0), PastRun("j2", "FAIL", 5.0, 2.0)])
    assert two is not None and two.count("<rect") == 2 and "spark" not in two
