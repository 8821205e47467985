"""results.json vs docs/results.md, JUnit structure, KCIDB validity, the summary table."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kvmtest.results.kcidb import kcidb_path, to_kcidb
from kvmtest.results.records import JobInfo, TestResult
from kvmtest.results.store import ResultsFile, load_results
from kvmtest.results.summary import all_passed, format_summary

DOC = Path(__file__).resolve().parents[2] / "docs" / "results.md"


def doc_keys(section: str) -> set:
    """First-column keys of the markdown table under '### <section>' in docs/results.md."""
    text = DOC.read_text()
    m = re.search(rf"^### {re.escape(section)}\n(.*?)(?=^#|\Z)", text, re.M | re.S)
    assert m, f"no section {section!r} in {DOC}"
    keys = re.findall(r"^\| `([^`]+)` \|", m.group(1), re.M)
    assert keys, f"no table in section {section!r}"
    return set(keys)


def test_statuses_seen(every_status_job):
    summary, _ = every_status_job
    got = {t.shortname: t.status for t in summary.results.tests}
    assert got == {"sleep0": "PASS", "false": "FAIL", "after": "SKIP", "nosuch": "ERROR",
                   "hang": "INTERRUPTED"}
    assert summary.exit_code == 1 and not summary.passed


def test_results_json_has_exactly_the_documented_keys(every_status_job):
    summary, _ = every_status_job
    raw = json.loads((summary.results_dir / "results.json").read_text())
    assert set(raw) == doc_keys("Top level")
    assert set(raw["job"]) == doc_keys("job")
    for t in raw["tests"]:
        assert set(t) == doc_keys("tests[]"), t["id"]
    assert raw["schema_version"] == 3
    assert raw["job"]["hosts"]["localhost"]["kernel"] == os.uname().release
    assert set(raw["job"]["hosts"]["localhost"]) == {"kernel", "qemu", "cpu_model", "arch",
                                                     "machine", "kvmtest"}
    assert {t["accel"] for t in raw["tests"]} == {None}  # host tests: no guest
    assert raw["total"] == len(raw["tests"]) == 5
    assert (raw["pass"], raw["failures"], raw["errors"], raw["skip"], raw["interrupt"]) == \
        (1, 1, 1, 1, 1)


def test_documented_statuses_are_the_code_statuses():
    from kvmtest.results.records import STATUSES

    assert doc_keys_of_status_table() == set(STATUSES)


def doc_keys_of_status_table() -> set:
    m = re.search(r"^## Statuses\n(.*?)(?=^#)", DOC.read_text(), re.M | re.S)
    return set(re.findall(r"^\| `([A-Z]+)` \|", m.group(1), re.M))


def test_logdirs_exist_with_debug_log(every_status_job):
    summary, _ = every_status_job
    for t in summary.results.tests:
        log = summary.results_dir / t.logdir / "debug.log"
        assert log.is_file(), t.id
        assert t.name in log.read_text()
    hang = next(t for t in summary.results.tests if t.shortname == "hang")
    assert "timed out after 0.5 s" in (summary.results_dir / hang.logdir / "debug.log").read_text()


def test_junit_xml_structure(every_status_job):
    summary, _ = every_status_job
    root = ET.parse(summary.results_dir / "results.xml").getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["localhost/q1", "localhost/q2"]
    total = 0
    for s in suites:
        cases = s.findall("testcase")
        assert int(s.get("tests")) == len(cases)
        assert int(s.get("failures")) == sum(c.find("failure") is not None for c in cases)
        assert int(s.get("errors")) == sum(c.find("error") is not None for c in cases)
        assert int(s.get("skipped")) == sum(c.find("skipped") is not None for c in cases)
        for c in cases:
            assert c.get("classname") and c.get("name")
            float(c.get("time"))
        total += len(cases)
    assert int(root.get("tests")) == total == 5
    by_name = {c.get("name"): c for c in root.iter("testcase")}
    assert by_name["smoke.false"].find("failure") is not None
    assert by_name["smoke.hang"].find("error").get("type") == "INTERRUPTED:TestTimeout"
    assert by_name["smoke.after"].find("skipped") is not None
    assert len(list(by_name["smoke.sleep0"])) == 1  # only system-out


def kcidb_schema():
    """kcidb_io's latest schema (imported here: 0.3 s that only these tests need)."""
    import kcidb_io

    return kcidb_io.schema.LATEST


def test_kcidb_file_validates_with_kcidb_io(every_status_job):
    summary, kcidb = every_status_job
    data = json.loads(kcidb.read_text())
    kcidb_schema().validate(data)
    assert data["version"]["major"] == 5
    assert {t["origin"] for t in data["tests"]} == {"kvmtest"}
    by_path = {t["path"]: t for t in data["tests"]}
    assert by_path["smoke.hang"]["status"] == "ERROR"
    assert by_path["smoke.hang"]["misc"]["kvmtest_status"] == "INTERRUPTED"
    assert by_path["smoke.false"]["status"] == "FAIL"
    build_ids = {b["id"] for b in data["builds"]}
    assert {t["build_id"] for t in data["tests"]} <= build_ids
    assert {b["checkout_id"] for b in data["builds"]} == {c["id"] for c in data["checkouts"]}


def test_kcidb_rejects_what_we_must_not_emit():
    """The validator really checks: a bad path or status fails (so the test above can fail)."""
    import jsonschema

    good = to_kcidb(ResultsFile(JobInfo("j", start=1.0), [
        TestResult("h/q/1-a", "a.b", "b", "PASS", "h", "q", 1.0, 2.0)]), Path("/tmp"))
    kcidb_schema().validate(good)
    bad = json.loads(json.dumps(good))
    bad["tests"][0]["path"] = "a b/c"
    with pytest.raises(jsonschema.ValidationError):
        kcidb_schema().validate(bad)


def test_stopped_test_is_miss_in_kcidb():
    r = TestResult("h/q/1-a", "a", "a", "INTERRUPTED", "h", "q", 1.0, 2.0,
                   fail_reason="stopped: SIGTERM received", fail_class="JobInterrupted")
    data = to_kcidb(ResultsFile(JobInfo("j", start=1.0), [r]), Path("/tmp"))
    kcidb_schema().validate(data)
    assert data["tests"][0]["status"] == "MISS"


@pytest.mark.parametrize("name,path", [
    ("qcow2.virtio_blk.smp2.boot", "qcow2.virtio_blk.smp2.boot"),
    ("type_specific.io-github-autotest-qemu.migrate", "type_specific.io-github-autotest-qemu.migrate"),
    ("Win2008.r2 sp1..boot/x", "Win2008.r2_sp1.boot_x"),
    ("", ""),
])
def test_kcidb_path(name, path):
    assert kcidb_path(name) == path
    assert kcidb_schema().path_re.fullmatch(kcidb_path(name))


def test_summary_table_by_queue_and_status(every_status_job):
    summary, _ = every_status_job
    text = format_summary(load_results(summary.results_dir), summary.results_dir)
    lines = text.splitlines()
    assert lines[0].split()[:6] == ["queue", "PASS", "FAIL", "ERROR", "SKIP", "INTERRUPTED"]
    row = {ln.split()[0]: ln.split()[1:6] for ln in lines[2:] if ln.startswith(("localhost", "TOTAL"))}
    assert row["localhost/q1"] == ["1", "1", "0", "1", "0"]
    assert row["localhost/q2"] == ["0", "0", "1", "0", "1"]
    assert row["TOTAL"] == ["1", "1", "1", "1", "1"]
    assert "1 planned test(s) have no final result" in text
    assert text.endswith(f"results: {summary.results_dir}")


def test_all_passed_needs_every_planned_test():
    ok = TestResult("h/q/1-a", "a", "a", "PASS", "h", "q", 1.0, 2.0)
    assert all_passed(ResultsFile(JobInfo("j"), [ok], planned=1))
    assert not all_passed(ResultsFile(JobInfo("j"), [ok], planned=2))
    assert not all_passed(ResultsFile(JobInfo("j"), [], planned=0))


def test_junit_survives_console_garbage_in_reasons(tmp_path):
    from kvmtest.results.junit import write_junit

    nasty = "login failed: \x1b[31mERROR\x1b[0m \x00\x07 <prompt> & \"quotes\" \ud800 ok"
    data = ResultsFile(JobInfo("j", set="s", start=1.0), [
        TestResult("h/q/1-a", "a.<b>", "b", "FAIL", "h", "q", 1.0, 2.0, fail_reason=nasty)])
    write_junit(data, tmp_path / "r.xml")
    case = ET.parse(tmp_path / "r.xml").getroot().find("testsuite/testcase")
    msg = case.find("failure").get("message")
    assert msg.startswith("login failed: [31mERROR[0m") and "<prompt> & \"quotes\"" in msg
    assert case.get("name") == "a.<b>"
