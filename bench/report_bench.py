#!/usr/bin/env python3
"""HTML report benchmark: render report.html for a synthetic N-test results.json.

Writes a results directory with N tests (default 10,000) over H hosts x Q queues, with
Cartesian-length names, 3 % FAIL (multi-line reasons), 1 % ERROR, 1 % SKIP, a few
INTERRUPTED and a --resume run (so the timeline has superseded attempts and a cut), then
times ``kvmtest report DIR`` as a library call (load results.json + render + write; best
of --repeat by wall time) and prints the file's size. Targets (issue 13): under 2 s and
under 5 MB for 10,000 tests. Asserts nothing.
``python3 bench/report_bench.py [--tests 10000] [--hosts 4] [--queues 8] [--repeat 3]``
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

from kvmtest.report.render import write_report  # noqa: E402
from kvmtest.results.records import JobInfo, TestResult  # noqa: E402
from kvmtest.results.store import ResultsFile, load_results  # noqa: E402
from kvmtest.results.writers import JsonWriter  # noqa: E402

REASON = ("guest vm1 did not print the login prompt within 60 s; last console lines:\n"
          "[    1.234] virtio_blk virtio1: [vda] 2097152 512-byte logical blocks\n"
          "[    1.456] EXT4-fs (vda1): mounted filesystem with ordered data mode\n")


def synthetic(tests: int, hosts: int, queues: int, seed: int = 1) -> ResultsFile:
    rnd = random.Random(seed)
    t0 = 1_790_000_000.0
    job = JobInfo(job_id="bench0000001", set="nightly", hostname="host0",
                  cmdline=["run.py", "-c", "kvm_hosts.cfg", "--set", "nightly"], start=t0)
    data = ResultsFile(job=job, planned=tests)
    lanes = [(f"host{h}.lab.example.com", str(q)) for h in range(hosts) for q in range(queues)]
    clock = {lane: t0 + 1 for lane in lanes}
    for i in range(tests):
        host, queue = lanes[i % len(lanes)]
        n = i // len(lanes) + 1
        short = f"io-github-autotest-qemu.block_resize.t{i}.{rnd.choice(['ext4', 'xfs', 'btrfs'])}"
        name = f"qcow2.virtio_blk.smp2.virtio_net.Guest.Linux.JeOS.27.x86_64.{short}"
        dur = rnd.lognormvariate(3.0, 0.8)
        u = rnd.random()
        status, reason, cls = "PASS", None, None
        if u < 0.03:
            status, reason, cls = "FAIL", REASON, "TestFail"
        elif u < 0.04:
            status, reason, cls = "ERROR", "qemu exited with code 1: <unknown>", "TestError"
        elif u < 0.05:
            status, reason, cls = "SKIP", f"dependency {host}/{queue}/1-x is FAIL", "DependencyNotMet"
        elif u < 0.052:
            status, reason, cls = "INTERRUPTED", "timed out after 600 s", "TestTimeout"
        start = clock[(host, queue)]
        clock[(host, queue)] = start + dur + 0.5
        data.tests.append(TestResult(
            id=f"{host}/{queue}/{n}-{short}", name=name, shortname=short, status=status,
            hostname=host, queue=queue, start=start, end=start + dur, fail_reason=reason,
            fail_class=cls, logdir=f"tests/{host}-{queue}/{n}-{short}"))
    end1 = max(clock.values())
    # a --resume an hour later re-ran the INTERRUPTED ones: their first attempt is superseded
    t1 = end1 + 3600
    for at, r in enumerate(data.tests):
        if r.status == "INTERRUPTED":
            data.superseded.append(r)
            data.tests[at] = TestResult(**{**r.__dict__, "status": "PASS", "fail_reason": None,
                                           "fail_class": None, "start": t1, "end": t1 + 30,
                                           "attempt": 2, "logdir": r.logdir + ".2"})
            t1 += 31
    job.runs = [{"start": t0, "end": end1, "resume": False, "ended": "interrupted",
                 "interrupted": "SIGTERM"},
                {"start": end1 + 3600, "end": t1, "resume": True, "ended": "finished",
                 "interrupted": None, "error": None}]
    job.end = t1
    return data


def history_timing(tmp: Path, rdir: Path, args: argparse.Namespace) -> None:
    from kvmtest.history import HistoryStore
    from kvmtest.report.history import open_history, store_runs, strips

    db = tmp / "history.db"
    t0 = time.perf_counter()
    with HistoryStore(db) as store:
        for n in range(args.history_jobs):
            old = tmp / f"old{n}"
            old.mkdir()
            data = synthetic(args.tests, args.hosts, args.queues, seed=100 + n)
            data.job.job_id = f"old{n:08d}"
            JsonWriter(old).close(data)
            store.import_dir(old)
    c1, t1 = time.process_time(), time.perf_counter()
    data = load_results(rdir)
    with open_history(db) as store:
        out = write_report(data, rdir / "report.html", results_dir=rdir,
                           history=strips(store_runs(store), data))
    t2 = time.perf_counter()
    print(f"with a history of {args.history_jobs} job(s) x {args.tests} tests"
          f" ({db.stat().st_size / 1e6:.0f} MB, indexed in {t1 - t0:.1f} s): report.html"
          f" {out.stat().st_size / 1e6:.2f} MB, load+render+write {t2 - t1:.3f} s"
          f" (CPU {time.process_time() - c1:.3f} s)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tests", type=int, default=10_000)
    ap.add_argument("--hosts", type=int, default=4)
    ap.add_argument("--queues", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="write the results directory here (and keep it)")
    ap.add_argument("--history-jobs", type=int, default=0, metavar="N",
                    help="also time the report with history strips: N earlier jobs of the same"
                         " tests (other seeds) indexed in a temp history first")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kvmtest-report-bench-") as tmp:
        rdir = args.keep or Path(tmp) / "results"
        rdir.mkdir(parents=True, exist_ok=True)
        JsonWriter(rdir).close(synthetic(args.tests, args.hosts, args.queues))
        size_json = (rdir / "results.json").stat().st_size
        best_wall = best_render = best_cpu = float("inf")
        for _ in range(args.repeat):
            c0, t0 = time.process_time(), time.perf_counter()
            data = load_results(rdir)
            t1 = time.perf_counter()
            out = write_report(data, rdir / "report.html", results_dir=rdir)
            t2 = time.perf_counter()
            best_wall = min(best_wall, t2 - t0)
            best_render = min(best_render, t2 - t1)
            best_cpu = min(best_cpu, time.process_time() - c0)
        size = out.stat().st_size
        print(f"tests {args.tests} on {args.hosts} host(s) x {args.queues} queue(s);"
              f" results.json {size_json / 1e6:.2f} MB")
        print(f"report.html: {size / 1e6:.2f} MB; load+render+write {best_wall:.3f} s"
              f" (render+write {best_render:.3f} s; CPU {best_cpu:.3f} s), best of {args.repeat}")
        if args.history_jobs:
            history_timing(Path(tmp), rdir, args)
        print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
