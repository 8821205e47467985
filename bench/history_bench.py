#!/usr/bin/env python3
"""History benchmark: index 300 jobs x 500 results, then time the questions asked of it.

Writes JOBS results directories of TESTS results each (real results.json files from the
results writers: about 3 % failures, a few flaky tests, a superseded attempt per job, two
metrics on 5 % of the tests, four kernel tags) into a temp dir. Then it times, with the real
``HistoryStore``:

- importing them one job at a time, each with its own connection, as finished runs do;
- the size of the file;
- ``flaky()``, ``durations()`` of every test, ``test_history()`` of one test,
  ``select()`` of one job and of a tag, and ``jobs()``;
- ``rebuild()`` of the whole set.

It asserts nothing. ``python3 bench/history_bench.py [--jobs 300] [--tests 500] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kvmtest.history import HistoryStore  # noqa: E402
from kvmtest.results.records import JobInfo, Metric, TestResult  # noqa: E402
from kvmtest.results.store import ResultsFile  # noqa: E402
from kvmtest.results.writers import JsonWriter  # noqa: E402

T0 = 1_800_000_000.0


def make_job(root: Path, n: int, tests: int, rng: random.Random) -> Path:
    job_id = f"bench{n:05d}"
    start = T0 + n * 3600
    kernel = f"6.{8 + n % 4}"
    job = JobInfo(job_id, set="nightly", hostname="lab1", cmdline=["run.py"], start=start,
                  end=start + 3000, tags={"kernel": kernel, "role": "dev" if n % 2 else "baseline"},
                  hosts={f"host{h}": {"kernel": "6.1.0-28-amd64", "qemu": "QEMU 7.2.15",
                                      "cpu_model": "AMD EPYC 7763", "arch": "x86_64"}
                         for h in range(4)},
                  runs=[{"start": start, "end": start + 3000, "ended": "finished"}])
    results, old = [], []
    for i in range(tests):
        host, queue = f"host{i % 4}", f"q{i % 8}"
        status = "PASS"
        roll = rng.random()
        if i % 50 == 7 and roll < 0.3:  # a few flaky tests
            status = "FAIL"
        elif roll < 0.02:
            status = "FAIL"
        elif roll < 0.03:
            status = "ERROR"
        t = start + i * 5
        dur = 3 + (i % 17) * 2 + rng.random()
        r = TestResult(id=f"{host}/{queue}/{i // 8 + 1}-test{i}", name=f"qcow2.virtio.smp2.test{i}",
                       shortname=f"test{i}", status=status, hostname=host, queue=queue, start=t,
                       end=t + dur, fail_reason=None if status == "PASS" else "guest did not answer",
                       fail_class=None if status == "PASS" else "TestFail",
                       logdir=f"tests/{host}-{queue}/{i // 8 + 1}-test{i}", accel="kvm")
        if i % 20 == 0:
            r.metrics = [Metric("bw", 800 + rng.gauss(0, 20), "MB/s", "higher"),
                         Metric("lat", 2 + rng.random(), "ms", "lower")]
        results.append(r)
    first = results[0]
    old.append(TestResult(first.id, first.name, first.shortname, "INTERRUPTED", first.hostname,
                          first.queue, first.start - 100, first.start - 50,
                          "stopped: SIGTERM received", "JobInterrupted", first.logdir + ".1"))
    first.attempt = 2
    d = root / job_id
    d.mkdir(parents=True)
    JsonWriter(d).close(ResultsFile(job, results, old, planned=tests))
    return d


def timed(label: str, fn, *args, **kw):
    """Wall and CPU seconds of one call: on a busy machine the CPU time is the one to read."""
    t, c = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    print(f"  {label:<44} {time.perf_counter() - t:8.3f} s wall {time.process_time() - c:8.3f} s CPU")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=300)
    ap.add_argument("--tests", type=int, default=500)
    ap.add_argument("--keep", type=Path, help="build here and keep it (default: a temp dir)")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="history-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rng = random.Random(13)
    t = time.perf_counter()
    dirs = [make_job(work / "results", n, args.tests, rng) for n in range(args.jobs)]
    print(f"wrote {args.jobs} results dirs x {args.tests} results in {time.perf_counter() - t:.1f} s")
    db = work / "history.db"
    if db.exists():
        for p in work.glob("history.db*"):
            p.unlink()
    t, c = time.perf_counter(), time.process_time()
    for d in dirs:
        with HistoryStore(db) as store:
            store.import_dir(d)
    total, cpu = time.perf_counter() - t, time.process_time() - c
    print(f"  import {args.jobs} jobs, one connection each {total:8.3f} s wall {cpu:8.3f} s CPU"
          f"  ({total / args.jobs * 1000:.0f} / {cpu / args.jobs * 1000:.0f} ms per job)")
    with HistoryStore(db) as store:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = sum(p.stat().st_size for p in work.glob("history.db*"))
        print(f"  file size {size / 1e6:.1f} MB")
        names = [f"test{i}" for i in range(args.tests)]
        flaky = timed("flaky(last=10)", store.flaky, 10)
        print(f"    -> {len(flaky)} flaky (test, tag set) pairs")
        timed("flaky(last=10, tags={'kernel': '6.9'})", store.flaky, 10, {"kernel": "6.9"})
        timed(f"durations({args.tests} tests, last=5)", store.durations, names, 5)
        timed("test_history('test7', last=20)", store.test_history, "test7", 20)
        one = timed("select(one job id)", store.select, f"bench{args.jobs // 2:05d}")
        print(f"    -> {len(one)} job, {len(one[0])} results")
        sel = timed("select('kernel=6.9,role=dev')", store.select, "kernel=6.9,role=dev")
        print(f"    -> {len(sel)} jobs")
        timed("jobs()", store.jobs)
        timed("import_dir of an unchanged job", store.import_dir, dirs[0])
        timed(f"rebuild({args.jobs} dirs)", store.rebuild, [work / "results"])
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.keep is None:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
