"""report.html from real results directories: written at job end, structure, escaping, links."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from kvmtest import exitcodes
from kvmtest.report.packed import unpack
from kvmtest.report.svg import TimeAxis
from kvmtest.report.view import recorded_exit
from kvmtest.report.writer import ReportWriter
from kvmtest.results import load_results
from kvmtest.run import resume_job
from tests.clirun import run_cli
from tests.report.conftest import EVIL_NAME, EVIL_OUTPUT, OPTIONS
from tests.report.dom import Node, parse

REPO = Path(__file__).resolve().parents[2]


def page(d: Path, name: str = "report.html") -> Node:
    return parse((d / name).read_text())


def bars(doc: Node, old: bool = False) -> list:
    return [r for r in doc.find_all("rect", "bar") if ("old" in r.classes) == old]


def test_every_job_writes_a_report_that_matches_its_results(report_job):
    results, summary = report_job
    data = load_results(results)
    assert summary.exit_code == exitcodes.TESTS_FAILED
    doc = page(results)
    # the header: job, set, the exit status the run had
    assert data.job.job_id in doc.by_id("job").text()
    assert "exit status 1: some tests did not pass" in " ".join(doc.by_id("exit-status").text().split())
    # the timeline: one bar per test, in its host/queue row, coloured and titled by its result
    rows = doc.find_all("g", "row")
    assert [r.find_all("text", "label")[0].children[0] for r in rows] == ["localhost/q1", "localhost/q2"]
    titles = {}
    for row in rows:
        for bar in bars(row):
            titles[bar.find_all("title")[0].text().split("\n")[0]] = bar
    assert sorted(titles) == sorted(t.id for t in data.tests)
    for t in data.tests:
        assert f"s{('PASS', 'FAIL', 'ERROR', 'SKIP', 'INTERRUPTED').index(t.status)}" in titles[t.id].classes
        assert t.status in titles[t.id].find_all("title")[0].text()
    # the summary table's TOTAL row
    total = [tr for tr in doc.by_id("summary").find_all("tr") if "TOTAL" in tr.text()][0]
    cells = [td.text() for td in total.find_all("td")]
    assert cells[2:8] == ["2", "2", "1", "1", "1", "7"]
    # failures: every non-PASS test, FAIL first, with its reason and a link to its debug.log
    failures = doc.find_all("tr", "failure")
    assert [f.attrs["data-status"] for f in failures] == ["FAIL", "FAIL", "ERROR", "INTERRUPTED",
                                                          "SKIP"]
    by_id = {t.id: t for t in data.tests}
    for tr in failures:
        t = by_id[tr.find_all("td", "test")[0].children[0]]
        assert t.status == tr.attrs["data-status"] and t.reason_line in tr.text()
        (link,) = tr.find_all("a")
        assert link.attrs["href"] == f"{t.logdir}/debug.log"
        assert (results / link.attrs["href"]).is_file()


def test_names_and_reasons_are_escaped(report_job):
    results, _ = report_job
    html = (results / "report.html").read_text()
    doc = parse(html)
    assert "alert(" not in "".join(s.text() for s in doc.find_all("script") if not s.attrs.get("id"))
    assert len(doc.find_all("script")) == 2  # the data and the table's code: nothing injected
    assert "<script>alert" not in html
    # the markup shows as text where it belongs: the FAIL's reason, the test name's tooltip
    fails = doc.find_all("tr", "failure")
    assert any(EVIL_OUTPUT in tr.text() for tr in fails)
    assert [td.attrs["title"] for tr in fails for td in tr.find_all("td", "test")
            if "<script>" in td.attrs["title"]] == [EVIL_NAME]
    data = json.loads(doc.by_id("tests-data").text())
    names = {t["name"] for t in unpack(data)}
    assert any(n.endswith(EVIL_NAME.split(".", 1)[1]) for n in names)


def test_the_packed_table_unpacks_to_every_test(report_job):
    results, _ = report_job
    data = load_results(results)
    doc = page(results)
    rows = unpack(json.loads(doc.by_id("tests-data").text()))
    assert [(r["id"], r["status"], r["name"], r["href"]) for r in rows] == [
        (t.id, t.status, t.name, f"{t.logdir}/debug.log") for t in data.tests]
    assert [r["reason"] for r in rows] == [t.reason_line for t in data.tests]


def test_the_page_loads_nothing(report_job):
    """Self-contained: no URL with a scheme anywhere, no external stylesheet, script or image."""
    results, _ = report_job
    html = (results / "report.html").read_text()
    assert not re.search(r"(?i)\b(https?|ftp):", html)
    assert not re.search(r"(?i)<(link|img|iframe|object|embed)\b|@import|url\(", html)
    doc = parse(html)
    assert [s for s in doc.find_all("script") if "src" in s.attrs] == []
    for a in doc.find_all("a"):
        assert a.attrs["href"].startswith("#") or not re.match(r"^[a-z]+:|^//", a.attrs["href"])


def test_cli_writes_elsewhere_with_links_that_still_resolve(report_job, tmp_path):
    results, _ = report_job
    out = tmp_path / "elsewhere" / "r.html"
    out.parent.mkdir()
    res = run_cli("report", results, "-o", out, cwd=tmp_path)  # ./run.py report, in this process
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(out)
    links = [a.attrs["href"] for a in page(out.parent, out.name).find_all("a") if "debug.log" in a.attrs["href"]]
    assert len(links) == 5
    for href in links:
        assert href.startswith("../") and (out.parent / href).resolve().is_file(), href
    res = subprocess.run([sys.executable, "-m", "kvmtest.report", str(tmp_path / "nothing")],
                         capture_output=True, text=True, cwd=REPO, timeout=60)
    assert res.returncode == exitcodes.BAD_INPUT and "cannot read" in res.stderr


def test_resume_rewrites_the_report_with_both_attempts(report_job, tmp_path):
    results, _ = report_job
    copy = tmp_path / "results"
    shutil.copytree(results, copy)
    summary = resume_job(copy, progress=lambda ev: None, options=OPTIONS)
    assert summary.exit_code == exitcodes.TESTS_FAILED  # the hang times out again
    doc = page(copy)
    (old,) = bars(doc, old=True)  # attempt 1 of the INTERRUPTED test, faded
    assert old.find_all("title")[0].text().startswith("localhost/q2/3-hang\nINTERRUPTED")
    assert "(attempt 2)" in [b for b in bars(doc) if "3-hang" in b.text()][0].text()
    assert len(bars(doc)) == 7
    assert doc.find_all("line", "cut")  # the pause between the two runs is cut out of the axis


def test_a_report_that_cannot_be_written_does_not_fail_the_job(report_job, tmp_path, caplog):
    results, _ = report_job
    copy = tmp_path / "results"
    shutil.copytree(results, copy)
    (copy / "report.html").unlink()
    (copy / "report.html").mkdir()  # the rename over it fails: IsADirectoryError
    summary = resume_job(copy, progress=lambda ev: None, options=OPTIONS)
    assert summary.exit_code == exitcodes.TESTS_FAILED
    assert len(load_results(copy).superseded) == 1  # the run and its results went on
    assert "could not write" in caplog.text and "kvmtest report" in caplog.text
    ReportWriter(copy).close(load_results(copy))  # and directly: no exception either


def test_recorded_exit_follows_the_job_summary_rules(report_job):
    results, _ = report_job
    data = load_results(results)
    assert recorded_exit(data) == (exitcodes.TESTS_FAILED, "some tests did not pass")
    last = data.job.runs[-1]
    last["interrupted"] = "SIGTERM"
    assert recorded_exit(data)[0] == 143
    last["interrupted"], last["ended"], last["error"] = None, "infra", "disk full"
    assert recorded_exit(data) == (exitcodes.INFRA, "the runner or the machine failed: disk full")
    last["ended"], last["error"], last["lost_hosts"] = "finished", None, ["hostB"]
    assert recorded_exit(data)[0] == exitcodes.INFRA
    last["ended"] = None
    assert recorded_exit(data)[0] is None


def test_time_axis_lays_runs_end_to_end():
    axis = TimeAxis.from_segments([(100.0, 110.0), (1000.0, 1005.0), (105.0, 112.0)])
    assert axis.length == 17.0
    assert axis.cuts == [12.0]
    assert [axis(t) for t in (100.0, 111.0, 500.0, 1000.0, 1004.0, 2000.0)] == \
        [0.0, 11.0, 12.0, 12.0, 16.0, 17.0]


def test_tags_host_facts_and_metrics_of_a_v3_job(tmp_path):
    """A real job with --tag-style tags and a test that records metrics (results.json v3)."""
    from kvmtest.run import new_job, run_job
    from tests.run.helpers import ptest, queue

    types = str(Path(__file__).resolve().parent / "types")
    results = tmp_path / "r"
    run_job([queue("q1", ptest("m.fio", "q1", type="measure", test_dirs=types,
                               measure="bw:MB/s:higher:812.5 lat:<ms>:lower:0.25"))],
            results, new_job("bench", ["test"]), progress=lambda ev: None, options=OPTIONS,
            tags={"kernel": "6.8-rc1", "role": "<dev>"})
    doc = page(results)
    assert doc.by_id("tags").text().split() == ["kernel=6.8-rc1", "role=<dev>"]
    hosts = doc.by_id("hosts")
    header = [th.text() for th in hosts.find_all("thead")[0].find_all("th")]
    assert header[0] == "host" and "kernel" in header and "qemu" in header
    (row,) = hosts.find_all("tbody")[0].find_all("tr")
    assert row.find_all("th")[0].text() == "localhost"
    metrics = [[td.text() for td in tr.find_all("td")] for tr in doc.by_id("measured").find_all("tr")[1:]]
    assert metrics == [["localhost/q1/1-fio", "bw", "812.5", "MB/s", "higher"],
                       ["localhost/q1/1-fio", "lat", "0.25", "<ms>", "lower"]]
