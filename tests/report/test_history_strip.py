"""History strips in the failures list, from the runs of real jobs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from kvmtest.report import render_report
from kvmtest.report.history import PastRun, strip, strips
from kvmtest.results import load_results
from kvmtest.run import new_job, run_job
from tests.clirun import run_cli
from tests.report.conftest import OPTIONS
from tests.report.dom import parse
from tests.run.helpers import cmd, queue

REPO = Path(__file__).resolve().parents[2]


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


def _history(tmp_path, *dirs):
    from kvmtest.history import HistoryStore

    path = tmp_path / "history.db"
    with HistoryStore(path) as store:
        for d in dirs:
            store.import_dir(d)
    return path


def _report(*args, cwd):
    """``./run.py report ARGS`` in this process (tests/clirun.py: exit code and output)."""
    return run_cli("report", *args, cwd=cwd)


def test_cli_baseline_by_job_id_or_tags_and_strips_from_the_history(two_jobs, tmp_path):
    base, dev = two_jobs
    history = _history(tmp_path, base, dev)
    base_id = load_results(base).job.job_id
    for spec in (base_id, base_id[:6], "role=base"):
        out = tmp_path / f"r-{spec.replace('=', '_')}.html"
        res = _report(dev, "--history", history, "--baseline", spec, "-o", out, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        doc = parse(out.read_text())
        verdicts = [t.attrs["data-verdict"] for t in doc.by_id("comparison").find_all("table")
                    if "data-verdict" in t.attrs]
        assert verdicts == ["regression", "new", "removed", "fix"], spec
        (fail,) = doc.find_all("tr", "failure")  # test a: PASS on base, FAIL here
        (cell,) = fail.find_all("td", "history")
        assert [sq.attrs["class"] for sq in cell.find_all("rect")] == ["s0", "s1"]
        # the verdicts worth a look get the strip too: a (regression) and b (fix)
        strips = {t.attrs["data-verdict"]: [sq.attrs["class"] for sq in t.find_all("rect")]
                  for t in doc.by_id("comparison").find_all("table") if "data-verdict" in t.attrs}
        assert strips == {"regression": ["s0", "s1"], "fix": ["s1", "s0"], "new": [],
                          "removed": []}
    res = _report(dev, "--history", history, "--baseline", "role=nobody", cwd=tmp_path)
    assert res.returncode == 2 and "no job of the history" in res.stderr, res.stderr
    res = _report(dev, "--history", tmp_path / "none.db", cwd=tmp_path)
    assert res.returncode == 2 and "no such file" in res.stderr, res.stderr
    assert not (tmp_path / "none.db").exists()


def test_a_job_draws_strips_from_its_history_at_its_end(two_jobs, tmp_path):
    """The job's own report: the history it indexes into gives its failures their strips."""
    base, _ = two_jobs
    history = _history(tmp_path, base, base)
    results = tmp_path / "again"
    run_job([queue("q1", cmd("s.a", "false"), cmd("s.c", "true"))], results,
            new_job("again", ["test"]), progress=lambda ev: None,
            options=replace(OPTIONS, history_path=history))
    doc = parse((results / "report.html").read_text())
    (cell,) = doc.find_all("td", "history")
    assert [sq.attrs["class"] for sq in cell.find_all("rect")] == ["s0", "s1"]
    # and without a history file there is no strip, and no history file is made
    results2 = tmp_path / "again2"
    run_job([queue("q1", cmd("s.a", "false"))], results2, new_job("again2", ["test"]),
            progress=lambda ev: None, options=replace(OPTIONS, history=False))
    assert parse((results2 / "report.html").read_text()).find_all("td", "history") == []


def test_a_broken_history_costs_the_strips_not_the_report(tmp_path, caplog):
    broken = tmp_path / "history.db"
    broken.write_text("not an SQLite file\n")
    results = tmp_path / "r"
    summary = run_job([queue("q1", cmd("s.a", "false"))], results, new_job("b", ["test"]),
                      progress=lambda ev: None, options=replace(OPTIONS, history_path=broken))
    assert summary.exit_code == 1
    doc = parse((results / "report.html").read_text())
    assert len(doc.find_all("tr", "failure")) == 1 and doc.find_all("td", "history") == []
    assert f"with the history {broken} it failed" in caplog.text
