"""`kvmtest history ...`, and real jobs indexing themselves.

The commands and jobs run in this process (tests/clirun.py: ``./run.py``'s ``main``, its exit
code and output); ``python -m kvmtest.history`` once as a real process (that entry point)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kvmtest.history import HistoryStore
from kvmtest.results.store import load_results
from tests.clirun import run_cli
from tests.history.kit import write_job
from tests.history.test_store import FLAKY_RUNS, T0, flaky_history

ROOT = Path(__file__).resolve().parents[2]


def history(*args: str, via_run_py: bool = True) -> subprocess.CompletedProcess:
    if via_run_py:
        return run_cli("history", *args, cwd=ROOT)
    return subprocess.run([sys.executable, "-m", "kvmtest.history", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_import_list_show_flaky_rebuild(tmp_path):
    db = str(tmp_path / "h.db")
    r = tmp_path / "r"
    with HistoryStore(tmp_path / "scratch.db") as scratch:  # only to write the directories
        flaky_history(tmp_path, scratch)
    p = history("import", str(r), "--history", db)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count(" imported: ") == len(FLAKY_RUNS)
    (tmp_path / "alias").symlink_to(r / "k1a")
    p = history("import", str(r / "k1a"), str(tmp_path / "alias"), "--history", db,
                via_run_py=False)
    assert p.returncode == 0 and p.stdout.startswith("k1a unchanged: "), p.stdout + p.stderr
    assert len(p.stdout.splitlines()) == 1  # the same directory twice is one import

    p = history("list", "--history", db)
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert lines[0].split()[:4] == ["job", "set", "tags", "started"]
    assert [ln.split()[0] for ln in lines[2:]] == list(FLAKY_RUNS)
    assert "kernel=2" in lines[-1] and str(r / "k2b") in lines[-1]
    p = history("list", "--history", db, "--tag", "kernel=2", "--format", "json")
    assert [j["job_id"] for j in json.loads(p.stdout)] == ["k2a", "k2b"]
    assert json.loads(p.stdout)[0]["counts"]["FAIL"] == 1

    p = history("flaky", "--history", db, "--format", "json")
    assert p.returncode == 0
    assert {(f["shortname"], "".join(f["statuses"])) for f in json.loads(p.stdout)} == \
        {("m", "PFPF"), ("t", "PFPP")}
    p = history("flaky", "--history", db, "--min-flips", "3")
    assert p.returncode == 0 and p.stdout.splitlines()[2].split()[:5] == ["m", "nightly", "kernel=1",
                                                                          "2/4", "3"]
    p = history("flaky", "--history", db, "--tag", "kernel=2")
    assert p.returncode == 0 and p.stdout.strip() == "no flaky test in the last 10 runs"

    p = history("show", "x", "--history", db)
    assert p.returncode == 0
    rows = p.stdout.splitlines()[2:]
    assert [row.split()[2] for row in rows] == ["k1a", "k1b", "k1c", "k1d", "k2a", "k2b"]
    assert rows[-1].split()[5] == "FAIL" and rows[-1].endswith("x broke")

    p = history("rebuild", str(r / "k1a"), str(r / "k1b"), "--history", db)
    assert p.returncode == 0 and "2 job(s)" in p.stdout
    p = history("list", "--history", db, "--format", "json")
    assert [j["job_id"] for j in json.loads(p.stdout)] == ["k1a", "k1b"]


def test_show_has_a_metrics_column_when_the_test_measured_something(tmp_path):
    db = str(tmp_path / "h.db")
    for n in range(2):
        d = write_job(tmp_path / "r", f"j{n}", T0 + 100 * n, [("bench1", "PASS")])
        assert history("import", str(d), "--history", db).returncode == 0
    p = history("show", "bench1", "--history", db)
    assert p.returncode == 0
    assert p.stdout.splitlines()[0].split() == ["started", "job", "tags", "host/queue", "status",
                                                "seconds", "metrics", "reason"]
    assert "bw=100MB/s lat=2.5ms" in p.stdout.splitlines()[2]


def test_bad_input_is_exit_2_with_one_line(tmp_path):
    db = str(tmp_path / "h.db")
    good = write_job(tmp_path / "r", "ok", T0, [("a", "PASS")])
    bad = tmp_path / "r" / "bad"
    bad.mkdir()
    (bad / "results.json").write_text("{\"schema_version\": 3}")
    cases = [
        ("list", "--tag", "kernel", "--history", db),
        ("show", "a", "--tag", "k=a,b", "--history", db),
        ("import", str(tmp_path / "nothing-here"), "--history", db),
        ("rebuild", str(bad), "--history", db),
        ("list", "--last", "0", "--history", db),
        ("list", "--history", str(good / "results.json")),  # not a SQLite file
    ]
    for args in cases:
        p = history(*args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert p.stderr.startswith("kvmtest history: error: ") and "Traceback" not in p.stderr, args
    p = history("import", str(good), str(bad), "--history", db)  # the good one is still indexed
    assert p.returncode == 2 and "ok imported" in p.stdout and str(bad) in p.stderr
    p = history("rebuild", str(tmp_path / "r" / "nothing"), "--history", db)
    assert p.returncode == 2
    with HistoryStore(db) as store:
        assert [j.job_id for j in store.jobs()] == ["ok"]  # a refused rebuild dropped nothing


def run_host_job(tmp_path: Path, results: Path, *extra: str, env_history=None):
    with pytest.MonkeyPatch.context() as mp:
        if env_history is not None:
            mp.setenv("KVMTEST_HISTORY", str(env_history))
        return run_cli("-c", "samples/demo/kvm_hosts.cfg", "--set", "smoke", "--only", "host_uname",
                       "--results", str(results), *extra, cwd=ROOT)


def test_a_real_job_indexes_itself_in_the_history_the_environment_names(tmp_path):
    db = tmp_path / "env-history.db"
    p = run_host_job(tmp_path, tmp_path / "r1", "--tag", "kernel=6.8-rc1", env_history=db)
    assert p.returncode == 0, p.stdout + p.stderr
    with HistoryStore(db) as store:
        [job] = store.jobs()
        assert job.tags == {"kernel": "6.8-rc1"} and job.results_dir == str(tmp_path / "r1")
        assert store.select("kernel=6.8-rc1") == [load_results(tmp_path / "r1")]
        assert store.types(["host_uname"]) == {"host_uname": "host_cmd"}
    other = tmp_path / "flag.db"
    p = run_host_job(tmp_path, tmp_path / "r2", "--history", str(other), env_history=db)
    assert p.returncode == 0, p.stderr
    p = run_host_job(tmp_path, tmp_path / "r3", "--no-history", env_history=db)
    assert p.returncode == 0, p.stderr
    with HistoryStore(db) as store, HistoryStore(other) as flag:
        assert len(store.jobs()) == 1  # --history FILE wins over the env, --no-history writes none
        assert [j.results_dir for j in flag.jobs()] == [str(tmp_path / "r2")]


def test_a_broken_history_only_warns_and_the_job_keeps_its_results(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_text("not sqlite at all, just some text that is long enough to be read\n" * 20)
    p = run_host_job(tmp_path, tmp_path / "r", env_history=junk)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "history: could not index" in p.stderr and "kvmtest history import" in p.stderr
    assert "Traceback" not in p.stderr
    assert load_results(tmp_path / "r").tests[0].status == "PASS"
    assert "could not index" in (tmp_path / "r" / "job.log").read_text()
