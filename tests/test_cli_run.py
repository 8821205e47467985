"""./run.py end to end without guests: two queues, SIGTERM mid-run, --resume finishes the job
(and keeps the job's --tag labels)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kvmtest.history import HistoryStore
from kvmtest.results.store import load_results
from tests.clirun import run_cli

ROOT = Path(__file__).resolve().parents[1]

CFG = """\
variants:
    - quick:
        type = host_cmd
        host_cmd = sh -c 'echo ran >> {tmp}/quick.count'
    - gated:
        type = host_cmd
        host_cmd = sh -c 'test -e {tmp}/go || sleep 60'
variants:
    - @q1:
        queue = 1
        env = env1
        only quick
    - @q2:
        queue = 2
        env = env2
        only gated
variants:
    - @here:
        hostname = localhost
"""


def kcidb_statuses(path):
    return {t["path"].rsplit(".", 1)[-1]: t["misc"]["kvmtest_status"]
            for t in json.loads(path.read_text())["tests"]}


def test_sigterm_then_resume(tmp_path):
    """Also: --kcidb given once is remembered by the job, so `--resume DIR` alone refreshes it."""
    cfg = tmp_path / "hosts.cfg"
    cfg.write_text(CFG.format(tmp=tmp_path))
    results, kcidb = tmp_path / "results", tmp_path / "out.kcidb.json"
    env = dict(os.environ, KVMTEST_HISTORY=str(tmp_path / "history.db"))
    proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "-c", str(cfg), "--results", str(results),
                             "--kcidb", str(kcidb), "--tag", "kernel=6.8-rc1", "--tag", "role=dev"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.time() + 30
    while time.time() < deadline and not (tmp_path / "quick.count").exists():
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, out
    statuses = {t["shortname"]: t["status"] for t in json.loads((results / "results.json").read_text())["tests"]}
    assert statuses == {"quick": "PASS", "gated": "INTERRUPTED"}
    assert kcidb_statuses(kcidb) == statuses
    job = json.loads((results / "results.json").read_text())["job"]
    assert job["exports"] == {"kcidb": str(kcidb)}
    with HistoryStore(tmp_path / "history.db") as h:  # the interrupted run indexed itself
        assert [j.counts["INTERRUPTED"] for j in h.jobs()] == [1]

    (tmp_path / "go").touch()
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), "--resume", str(results)],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    statuses = {t["shortname"]: t["status"] for t in json.loads((results / "results.json").read_text())["tests"]}
    assert statuses == {"quick": "PASS", "gated": "PASS"}
    assert kcidb_statuses(kcidb) == statuses  # rewritten without --kcidb
    assert (tmp_path / "quick.count").read_text() == "ran\n"  # the finished test was not run again
    job = json.loads((results / "results.json").read_text())["job"]
    assert job["tags"] == {"kernel": "6.8-rc1", "role": "dev"}  # --resume kept them
    hosts = {t["hostname"] for t in json.loads((results / "results.json").read_text())["tests"]}
    assert set(job["hosts"]) == hosts  # every result resolves to its host's facts
    assert all(job["hosts"][h]["qemu"].startswith("QEMU") for h in hosts)
    with HistoryStore(tmp_path / "history.db") as h:  # --resume replaced the job's rows
        [row] = h.jobs()
        assert row.counts["PASS"] == 2 and row.tags == {"kernel": "6.8-rc1", "role": "dev"}
        assert h.select(row.job_id)[0] == load_results(results)


def test_bad_tag_and_tag_with_resume_are_bad_input(tmp_path):
    cfg = tmp_path / "hosts.cfg"
    cfg.write_text(CFG.format(tmp=tmp_path))
    (tmp_path / "go").touch()
    results = tmp_path / "results"
    for bad in ("kernel", "k=a,b", "=v"):  # (bad input: ./run.py's main in-process, tests/clirun.py)
        proc = run_cli("-c", cfg, "--results", results, "--tag", bad)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("error: tag ") and "Traceback" not in proc.stderr
        assert not results.exists()  # refused before anything was written
    proc = subprocess.run([sys.executable, "-m", "kvmtest.run", "--plan", str(tmp_path / "none.json"),
                           "--results", str(results), "--tag", "nokey"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "expected KEY=VALUE" in proc.stderr, proc.stderr
    proc = run_cli("--resume", results, "--tag", "a=b")
    assert proc.returncode == 2 and "--tag cannot change it" in proc.stderr, proc.stderr


def _pipe_size_after(argv, tmp_path) -> tuple:
    """(stdout, the stdout pipe's size after the process wrote into it) of ``argv``."""
    import fcntl

    r, w = os.pipe()
    try:
        proc = subprocess.Popen(argv, stdout=w, stderr=subprocess.DEVNULL, cwd=tmp_path)
        os.close(w)
        w = -1
        with os.fdopen(os.dup(r), "rb") as f:
            out = f.read()
        assert proc.wait(timeout=60) == 0
        return out, fcntl.fcntl(r, getattr(fcntl, "F_GETPIPE_SZ", 1032))
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def test_listings_into_a_pipe_widen_it(tmp_path, demo_files):
    """A listing read through a pipe (`| jq`, a bench) is written 64 KiB at a time: both
    the config CLI and the dry run give the pipe 1 MiB, so that the reader drains while
    they go on, rather than the two taking turns (the dry run did not: on large.cfg's 1 GB
    listing, 22-27 s wall against 16 s)."""
    demo = ROOT / "samples" / "demo" / "kvm_hosts.cfg"
    out, size = _pipe_size_after([sys.executable, str(ROOT / "run.py"), "-c", str(demo), "--set",
                                  "smoke", "--dry-run", "--format", "json"], tmp_path)
    assert size == 1 << 20 and len(out.splitlines()) >= 2 and json.loads(out.splitlines()[0])
    out, size = _pipe_size_after([sys.executable, "-m", "kvmtest.config", "--json", str(demo)],
                                 tmp_path)
    assert size == 1 << 20 and json.loads(out.splitlines()[0])
