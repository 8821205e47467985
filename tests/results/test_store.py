"""Result records and results.json: lossless JSON, atomic rewrites, upgrades of old files."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvmtest.fsutil import atomic_write
from kvmtest.plan.model import Address
from kvmtest.results.records import (
    INTERRUPTED,
    PASS,
    STATUSES,
    JobInfo,
    Metric,
    TestResult,
    is_final,
    parse_tag,
    parse_tags,
)
from kvmtest.results.store import SCHEMA_VERSION, ResultsFile, load_results, upgrade
from kvmtest.results.writers import JsonWriter, ResultsStore
from tests.hypo import examples

text = st.text(max_size=30)
addresses = st.builds(Address, vm=text, nic=text, mac=text,
                      ip=st.one_of(st.none(), text), range=text)
results = st.builds(
    TestResult, id=text, name=text, shortname=text, status=st.sampled_from(STATUSES),
    hostname=text, queue=text,
    start=st.floats(0, 2e9, allow_nan=False), end=st.floats(0, 2e9, allow_nan=False),
    fail_reason=st.one_of(st.none(), text), fail_class=st.one_of(st.none(), text),
    logdir=text, addresses=st.lists(addresses, max_size=3), attempt=st.integers(1, 5),
    accel=st.sampled_from([None, "kvm", "tcg", "kvm,tcg"]),
    metrics=st.lists(st.builds(Metric, name=text, value=st.floats(-1e12, 1e12, allow_nan=False),
                               unit=text, better=st.sampled_from(["higher", "lower"])),
                     max_size=3),
)


@settings(max_examples=examples(100), deadline=None)
@given(results)
def test_result_json_round_trip_is_lossless(r):
    back = TestResult.from_json(json.loads(json.dumps(r.to_json())))
    assert back == r


@settings(max_examples=examples(30), deadline=None)
@given(st.lists(results, max_size=5), st.lists(results, max_size=3))
def test_results_file_round_trip(tests, superseded):
    job = JobInfo(job_id="j1", set="nightly", hostname="h", cmdline=["run.py"], start=1.0,
                  runs=[{"start": 1.0, "end": 2.0}], tags={"kernel": "6.8-rc1", "role": "dev"},
                  hosts={"h": {"kernel": "6.1.0", "qemu": "QEMU 7.2", "cpu_model": "EPYC"}})
    data = ResultsFile(job=job, tests=tests, superseded=superseded, planned=len(tests) + 2)
    back = ResultsFile.from_json(json.loads(json.dumps(data.to_json())))
    assert back == data


def test_unknown_status_is_rejected():
    with pytest.raises(ValueError, match="unknown status"):
        TestResult("i", "n", "s", "TIMEOUT", "h", "q", 0.0, 1.0)


def test_interrupted_is_not_final():
    assert is_final(PASS) and not is_final(INTERRUPTED)


def r(id_: str, status: str = PASS, attempt: int = 1) -> TestResult:
    return TestResult(id_, f"name.{id_}", id_, status, "h", "q", 10.0, 11.5, attempt=attempt)


def test_store_rewrites_after_each_add_and_keeps_superseded(tmp_path):
    store = ResultsStore(ResultsFile(JobInfo("j", start=10.0), planned=2), [JsonWriter(tmp_path)])
    store.add(r("a", INTERRUPTED))
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert [t["status"] for t in on_disk["tests"]] == [INTERRUPTED]
    assert on_disk["pending"] == 2
    store.add(r("a", PASS, attempt=2))
    store.add(r("b"))
    data = load_results(tmp_path)
    assert [(t.id, t.status, t.attempt) for t in data.tests] == [("a", PASS, 2), ("b", PASS, 1)]
    assert [(t.id, t.status) for t in data.superseded] == [("a", INTERRUPTED)]
    assert json.loads((tmp_path / "results.json").read_text())["pending"] == 0
    assert list(tmp_path.glob("*.tmp")) == []


@settings(max_examples=examples(30), deadline=None)
@given(st.lists(results, max_size=4), st.lists(results, max_size=2))
def test_store_render_is_the_same_document_as_to_json(tests, superseded):
    data = ResultsFile(JobInfo("j", start=1.0), tests, superseded, planned=3)
    writer = JsonWriter(Path("/nonexistent"))
    assert json.loads(writer.render(data)) == json.loads(json.dumps(data.to_json()))


def test_store_under_concurrent_adds_loses_nothing(tmp_path):
    store = ResultsStore(ResultsFile(JobInfo("j")), [JsonWriter(tmp_path)])

    def add_many(prefix):
        for i in range(25):
            store.add(r(f"{prefix}{i}"))

    threads = [threading.Thread(target=add_many, args=(p,)) for p in "abcd"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(load_results(tmp_path).tests) == 100


def test_atomic_write_failure_keeps_the_old_file(tmp_path):
    target = tmp_path / "results.json"
    atomic_write(target, "old")

    with pytest.raises(TypeError):
        atomic_write(target, 12345)  # type: ignore[arg-type]  # write() refuses an int
    assert target.read_text() == "old"
    assert list(tmp_path.glob("*.tmp")) == []


AVOCADO_V1 = {
    "job_id": "0123abcd",
    "debuglog": "/root/avocado/job-results/job-1/job.log",
    "total": 3, "pass": 1, "errors": 0, "failures": 1, "skip": 0, "cancel": 1,
    "tests": [
        {"id": "1-boot", "name": "io-github-autotest-qemu.boot", "status": "PASS",
         "fail_reason": None, "start": 100.0, "end": 130.5, "time": 30.5,
         "logdir": "/res/test-results/1-boot"},
        {"id": "2-reboot", "name": "io-github-autotest-qemu.reboot", "status": "FAIL",
         "fail_reason": "guest did not come back", "fail_class": "TestFail",
         "start": 131.0, "end": 200.0, "time": 69.0, "logdir": "/res/test-results/2-reboot"},
        {"id": "3-mig", "name": "io-github-autotest-qemu.migrate", "status": "CANCEL",
         "fail_reason": "no second host", "start": 200.0, "end": 200.1, "time": 0.1},
    ],
}


def test_avocado_results_json_is_upgraded_on_read(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps(AVOCADO_V1))
    data = load_results(tmp_path / "results.json")
    assert data.job.job_id == "0123abcd"
    assert [t.status for t in data.tests] == ["PASS", "FAIL", "SKIP"]
    assert data.tests[1].fail_reason == "guest did not come back"
    assert data.tests[0].time == pytest.approx(30.5)
    assert all(t.queue == "default" for t in data.tests)
    assert data.to_json()["schema_version"] == SCHEMA_VERSION


def test_newer_schema_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="newer than this kvmtest"):
        upgrade({"schema_version": SCHEMA_VERSION + 1, "tests": []})


def test_current_version_passes_through_upgrade_unchanged():
    d = ResultsFile(JobInfo("j"), [r("a")]).to_json()
    assert upgrade(json.loads(json.dumps(d))) == d


V2 = {
    "schema_version": 2,
    "job": {"job_id": "j2", "set": "nightly", "hostname": "h", "cmdline": [], "start": 1.0,
            "end": 3.0, "runs": [], "interrupted": None, "exports": {}},
    "tests": [{"id": "h/q/1-a", "name": "n.a", "shortname": "a", "status": "PASS",
               "hostname": "h", "queue": "q", "start": 1.0, "end": 2.0, "fail_reason": None,
               "fail_class": None, "logdir": "tests/h-q/1-a", "addresses": [], "attempt": 2}],
    "superseded": [{"id": "h/q/1-a", "name": "n.a", "shortname": "a", "status": "INTERRUPTED",
                    "hostname": "h", "queue": "q", "start": 0.5, "end": 0.9, "attempt": 1}],
    "planned": 1,
}


def test_v2_results_json_is_upgraded_to_v3_defaults(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps(V2))
    data = load_results(tmp_path)
    assert data.job.tags == {} and data.job.hosts == {}
    assert [(t.accel, t.metrics) for t in (*data.tests, *data.superseded)] == [(None, [])] * 2
    assert data.tests[0].attempt == 2
    out = data.to_json()
    assert out["schema_version"] == 3
    assert out["tests"][0]["accel"] is None and out["tests"][0]["metrics"] == []
    assert ResultsFile.from_json(json.loads(json.dumps(out))) == data


def test_v3_tags_hosts_accel_metrics_survive_a_write_and_read(tmp_path):
    res = r("a")
    res.accel = "tcg"
    res.metrics = [Metric("bw", 812.5, "MB/s", "higher"), Metric("lat", 3, "ms", "lower")]
    job = JobInfo("j3", tags={"kernel": "6.8-rc1"}, hosts={"h": {"kernel": "6.1.0"}})
    JsonWriter(tmp_path).close(ResultsFile(job, [res]))
    raw = json.loads((tmp_path / "results.json").read_text())
    assert raw["job"]["tags"] == {"kernel": "6.8-rc1"}
    assert raw["tests"][0]["metrics"][1] == {"name": "lat", "value": 3.0, "unit": "ms",
                                             "better": "lower"}
    back = load_results(tmp_path)
    assert back.tests[0].metrics == res.metrics and back.tests[0].accel == "tcg"
    assert back.job.hosts == {"h": {"kernel": "6.1.0"}}


@pytest.mark.parametrize("change, message", [
    (lambda t: t.update(metrics=[{"name": "bw", "value": "fast"}]), r"metrics\[0\]\.value"),
    (lambda t: t.update(metrics=[{"name": "bw", "value": 1, "better": "up"}]), "'higher' or"),
    (lambda t: t.update(metrics={"bw": 1}), r"\.metrics"),
    (lambda t: t.update(accel=1), r"\.accel"),
])
def test_bad_v3_result_fields_name_the_key(tmp_path, change, message):
    from kvmtest.jsonfile import BadFileError

    doc = ResultsFile(JobInfo("j"), [r("a")]).to_json()
    change(doc["tests"][0])
    (tmp_path / "results.json").write_text(json.dumps(doc))
    with pytest.raises(BadFileError, match=message):
        load_results(tmp_path)


def test_bad_tags_in_results_json_are_refused(tmp_path):
    from kvmtest.jsonfile import BadFileError

    doc = ResultsFile(JobInfo("j"), [r("a")]).to_json()
    doc["job"]["tags"] = {"kernel": 6}
    (tmp_path / "results.json").write_text(json.dumps(doc))
    with pytest.raises(BadFileError, match=r"job\.tags\['kernel'\]"):
        load_results(tmp_path)


def test_tag_syntax():
    assert parse_tag("kernel=6.8-rc1") == ("kernel", "6.8-rc1")
    assert parse_tag(" role = a=b ") == ("role", "a=b")
    assert parse_tags(["a=1", "b=2", "a=3"]) == {"a": "3", "b": "2"}
    for bad in ("kernel", "=x", "k=", "k k=v", "k=a,b", "k=a\nb"):
        with pytest.raises(ValueError, match="tag"):
            parse_tag(bad)


def test_metric_better_is_checked():
    with pytest.raises(ValueError, match="higher"):
        Metric("bw", 1.0, "MB/s", "more")


def test_results_cli_prints_summary_and_writes_exports(tmp_path, capsys):
    import xml.etree.ElementTree as ET

    import kcidb_io

    from kvmtest.results.__main__ import main

    (tmp_path / "results.json").write_text(json.dumps(AVOCADO_V1))
    rc = main([str(tmp_path), "--junit", str(tmp_path / "j.xml"),
               "--kcidb", str(tmp_path / "k.json")])
    out = capsys.readouterr().out
    assert rc == 1 and "localhost/default" in out
    assert ET.parse(tmp_path / "j.xml").getroot().get("tests") == "3"
    kcidb_io.schema.LATEST.validate(json.loads((tmp_path / "k.json").read_text()))
    assert main([str(tmp_path / "nope")]) == 2


def test_a_directory_not_there_yet_is_read_as_one(tmp_path):
    """A reader polling a run's results dir before the run made it must get 'no such file'
    for its results.json (and retry), never IsADirectoryError once the dir appears in between
    (tests/run/test_integration's SIGTERM test hit that under load)."""
    with pytest.raises(FileNotFoundError) as got:
        load_results(tmp_path / "r")
    assert got.value.filename == str(tmp_path / "r" / "results.json")
    with pytest.raises(FileNotFoundError) as got:
        load_results(tmp_path / "old.json")  # a file name stays a file name
    assert got.value.filename == str(tmp_path / "old.json")
