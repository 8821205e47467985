"""Result writers: the hooks' order, the default formats, and a failing writer at close."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from kvmtest.results.records import FAIL, PASS, JobInfo, TestResult
from kvmtest.results.store import ResultsFile, load_results
from kvmtest.results.writers import ResultsStore, ResultWriter, default_writers


def r(id_: str, status: str = PASS) -> TestResult:
    return TestResult(id_, f"name.{id_}", id_, status, "h", "q", 10.0, 11.5)


class Recorder(ResultWriter):
    name = "recorder"

    def __init__(self, calls):
        self.calls = calls

    def open(self, data):
        self.calls.append(("open", len(data.tests)))

    def test_finished(self, data, result):
        self.calls.append(("test", result.id, [t.id for t in data.tests]))

    def close(self, data):
        self.calls.append(("close", len(data.tests)))


class Broken(ResultWriter):
    name = "broken"

    def close(self, data):
        raise OSError("disk full")


def test_store_calls_every_hook_in_order_with_the_recorded_data():
    calls = []
    store = ResultsStore(ResultsFile(JobInfo("j")), [Recorder(calls)])
    store.open()
    store.add(r("a"))
    store.add(r("b", FAIL))
    store.close()
    assert calls == [("open", 0), ("test", "a", ["a"]), ("test", "b", ["a", "b"]), ("close", 2)]


def test_a_writer_failing_at_close_does_not_stop_the_others(tmp_path):
    calls = []
    store = ResultsStore(ResultsFile(JobInfo("j")), [Broken(), Recorder(calls)])
    with pytest.raises(OSError, match="disk full"):
        store.close()
    assert calls == [("close", 0)]


def test_default_writers_write_json_and_junit_per_test_and_kcidb_at_close(tmp_path):
    kcidb = tmp_path / "k.json"
    store = ResultsStore(ResultsFile(JobInfo("j", start=10.0), planned=2),
                         default_writers(tmp_path, kcidb))
    assert [w.name for w in store.writers] == ["results.json", "junit", "kcidb"]
    store.open()
    assert load_results(tmp_path).tests == [] and (tmp_path / "results.xml").exists()
    store.add(r("a"))
    assert [t.id for t in load_results(tmp_path).tests] == ["a"]
    assert [c.get("name") for c in ET.parse(tmp_path / "results.xml").iter("testcase")] == ["name.a"]
    assert not kcidb.exists()
    store.close()
    assert [t["path"] for t in json.loads(kcidb.read_text())["tests"]] == ["name.a"]


def test_without_kcidb_no_kcidb_writer(tmp_path):
    assert [w.name for w in default_writers(tmp_path)] == ["results.json", "junit"]
