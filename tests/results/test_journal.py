"""results.json as snapshot + journal: per-test cost independent of the job's size, nothing lost.

A job appends one JSON line per result to results.jsonl and rewrites the whole
results.json/results.xml only at snapshots (every few seconds, at open and at
close). Readers (``load_results``, ``--resume``) merge the two.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

import kvmtest.results.writers as writers_mod
from kvmtest.jsonfile import BadFileError
from kvmtest.results.records import INTERRUPTED, PASS, JobInfo, TestResult
from kvmtest.results.store import JOURNAL, ResultsFile, load_results
from kvmtest.results.writers import JsonWriter, ResultsStore, default_writers
from tests.run.helpers import queue, runner_cmd, runner_env, sleep, write_plan
from tests.waiting import wait_for


def r(id_: str, status: str = PASS, attempt: int = 1) -> TestResult:
    return TestResult(id_, f"name.{id_}", id_, status, "h", "q", 10.0, 11.5, attempt=attempt)


def test_adding_a_result_rewrites_no_whole_file(tmp_path, monkeypatch):
    """Between snapshots an add appends one line: no results.json/results.xml rewrite at all
    (before: both rewritten whole after every test, O(tests) each)."""
    rewrites = []
    real_write, real_junit = writers_mod.atomic_write, writers_mod.write_junit
    monkeypatch.setattr(writers_mod, "atomic_write",
                        lambda p, d, **k: (rewrites.append(p), real_write(p, d, **k)))
    monkeypatch.setattr(writers_mod, "write_junit",
                        lambda d, p: (rewrites.append(p), real_junit(d, p)))
    store = ResultsStore(ResultsFile(JobInfo("j", start=1.0), planned=500),
                         default_writers(tmp_path), snapshot_interval=3600)
    store.open()
    assert len(rewrites) == 2  # open: results.json and results.xml
    sizes = []
    for i in range(500):
        before = (tmp_path / JOURNAL).stat().st_size if (tmp_path / JOURNAL).exists() else 0
        store.add(r(f"t{i:04d}"))
        sizes.append((tmp_path / JOURNAL).stat().st_size - before)
    assert len(rewrites) == 2
    assert max(sizes) == min(sizes)  # the same bytes for the 1st and the 500th result
    assert len(load_results(tmp_path).tests) == 500  # the reader sees them all meanwhile
    assert json.loads((tmp_path / "results.json").read_text())["tests"] == []
    store.close()
    assert len(rewrites) == 4 and (tmp_path / JOURNAL).stat().st_size == 0
    assert len(json.loads((tmp_path / "results.json").read_text())["tests"]) == 500


def test_the_snapshot_thread_catches_up_within_its_interval(tmp_path):
    store = ResultsStore(ResultsFile(JobInfo("j")), default_writers(tmp_path),
                         snapshot_interval=0.2)
    store.open()
    try:
        store.add(r("a"))
        wait_for(lambda: len(json.loads((tmp_path / "results.json").read_text())["tests"]) == 1,
                 "a snapshot", timeout=10)
        # results.xml is the snapshot's next file: wait for it too (it is written just after)
        wait_for(lambda: b"name.a" in (tmp_path / "results.xml").read_bytes(), "results.xml",
                 timeout=10)
        assert (tmp_path / JOURNAL).stat().st_size == 0
    finally:
        store.close()


def test_merge_is_idempotent_and_later_attempts_supersede(tmp_path):
    store = ResultsStore(ResultsFile(JobInfo("j")), [JsonWriter(tmp_path)], snapshot_interval=3600)
    store.open()
    store.add(r("a", INTERRUPTED))
    store.snapshot()  # a is in results.json now
    store.add(r("b"))
    store.add(r("a", PASS, attempt=2))
    # a crash right after a snapshot, before the journal was emptied: lines repeat the snapshot
    with open(tmp_path / JOURNAL, "a") as f:
        f.write(json.dumps(r("b").to_json()) + "\n")
    data = load_results(tmp_path)
    assert [(t.id, t.status, t.attempt) for t in data.tests] == [("a", PASS, 2), ("b", PASS, 1)]
    assert [(t.id, t.attempt) for t in data.superseded] == [("a", 1)]


def test_a_half_written_last_line_is_ignored_a_bad_line_is_an_error(tmp_path):
    store = ResultsStore(ResultsFile(JobInfo("j")), [JsonWriter(tmp_path)], snapshot_interval=3600)
    store.open()
    store.add(r("a"))
    with open(tmp_path / JOURNAL, "a") as f:
        f.write('{"id": "b", "na')  # the runner died in the middle of a line
    assert [t.id for t in load_results(tmp_path).tests] == ["a"]
    with open(tmp_path / JOURNAL, "a") as f:
        f.write('\n{"id": "c"}\n')
    with pytest.raises(BadFileError, match=r"results.jsonl: line 2: not valid JSON"):
        load_results(tmp_path)


def test_a_killed_runner_loses_no_result_between_snapshots(tmp_path):
    """A real runner killed right after its tests ended, long before its next snapshot."""
    plan = write_plan(tmp_path / "in.json", [
        queue("q1", *[sleep(f"a.s{i}", 0) for i in range(20)],
              *[sleep("a.long", 600)]),
    ])
    r_dir = tmp_path / "r"
    proc = subprocess.Popen(runner_cmd("--plan", str(plan), "--results", str(r_dir),
                                       "--snapshot-interval", "3600"),
                            env=runner_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: (r_dir / "tests" / "localhost-q1" / "21-long" / "debug.log").exists(),
                 "the long test to start")
        time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    snapshot = json.loads((r_dir / "results.json").read_text())
    assert snapshot["tests"] == []  # no snapshot since the start...
    data = load_results(r_dir)  # ...and yet every finished test is there
    assert [t.shortname for t in data.tests] == [f"s{i}" for i in range(20)]
    summary = subprocess.run([sys.executable, "-m", "kvmtest.results", str(r_dir)],
                             env=runner_env(), capture_output=True, text=True, timeout=60)
    assert re.search(r"localhost/q1\s+20\s+0\s+0\s+0\s+0\s", summary.stdout), summary.stdout
    assert os.path.getsize(r_dir / JOURNAL) > 0
