#!/usr/bin/env python3
"""What going through the cluster costs: zero-length tests, 2 hosts x 2 queues.

The same plan (N ``sleep_length = 0`` tests per queue, queues hostA/1, hostA/2, hostB/1,
hostB/2) runs twice:

* locally: ``run_job`` runs the four queues as threads of this process;
* through the cluster: ``run_cluster`` with its scheduler in this process and two
  ``kvmtest worker`` processes (hostA, hostB) on 127.0.0.1.

Printed: each run's makespan (first test start to last test end, from results.json), the
longest queue's span, the added cost per test (makespan difference / tests per queue: the
queues run in parallel, so that is what each test of a queue pays), and the cluster
makespan relative to its longest queue (targets: < 30 ms per test, within 5 %).

    .venv/bin/python bench/cluster_bench.py [--tests 100]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kvmtest.cluster.lab import env, free_port  # noqa: E402
from kvmtest.plan.model import PlannedTest, QueuePlan  # noqa: E402
from kvmtest.results.store import load_results  # noqa: E402
from kvmtest.run.pipeline import RunOptions  # noqa: E402


def plan(n: int):
    queues = []
    for host in ("hostA", "hostB"):
        for q in ("1", "2"):
            tests = [PlannedTest(name=f"z{i}", shortname=f"z{i}",
                                 params={"type": "sleep", "sleep_length": "0"},
                                 hostname=host, queue=q, env=f"env{q}") for i in range(n)]
            queues.append(QueuePlan(host, q, f"env{q}", tests=tests))
    return queues


def spans(results_dir: Path):
    data = load_results(results_dir)
    assert len(data.tests) == data.planned and all(r.status == "PASS" for r in data.tests), \
        f"not every test passed in {results_dir}"
    makespan = max(r.end for r in data.tests) - min(r.start for r in data.tests)
    queues = {}
    for r in data.tests:
        queues.setdefault((r.hostname, r.queue), []).append(r)
    longest = max(max(r.end for r in rs) - min(r.start for r in rs) for rs in queues.values())
    return makespan, longest


def run_local(tmp: Path, n: int):
    from kvmtest.run import new_job, run_job

    opts = RunOptions(handle_signals=False, print_summary=False)
    t0 = time.monotonic()
    run_job(plan(n), tmp / "local", new_job("bench"), options=opts, progress=lambda ev: None)
    return time.monotonic() - t0, spans(tmp / "local")


def run_cluster_once(tmp: Path, n: int):
    from kvmtest.cluster import ClusterOptions, run_cluster
    from kvmtest.run import new_job

    port = free_port("127.0.0.1")
    workers = []
    for host in ("hostA", "hostB"):
        log = open(tmp / f"worker-{host}.log", "w")
        workers.append(subprocess.Popen(
            [sys.executable, str(REPO / "run.py"), "worker", "--scheduler",
             f"tcp://127.0.0.1:{port}", "--name", host, "--host", "127.0.0.1", "--once",
             "--workdir", str(tmp / f"w-{host}")], env=env(), stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True))
    try:
        opts = RunOptions(handle_signals=False, print_summary=False)
        t0 = time.monotonic()
        run_cluster(plan(n), tmp / "cluster", ClusterOptions(f"local:127.0.0.1:{port}",
                                                             wait_hosts=120),
                    new_job("bench"), run_options=opts, progress=lambda ev: None,
                    say=lambda line: None)
        wall = time.monotonic() - t0
    finally:
        for w in workers:
            if w.poll() is None:
                os.killpg(w.pid, signal.SIGTERM)
        for w in workers:
            try:
                w.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(w.pid, signal.SIGKILL)
                w.wait()
    return wall, spans(tmp / "cluster")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tests", type=int, default=100, help="zero-length tests per queue")
    args = ap.parse_args()
    n = args.tests
    with tempfile.TemporaryDirectory(prefix="kvmtest-cluster-bench-") as d:
        tmp = Path(d)
        local_wall, (local_make, local_longest) = run_local(tmp, n)
        cl_wall, (cl_make, cl_longest) = run_cluster_once(tmp, n)
    per_test_ms = (cl_make - local_make) / n * 1000
    ratio = cl_make / cl_longest
    print(f"plan: 2 hosts x 2 queues x {n} zero-length tests ({4 * n} tests)")
    print(f"local   (run_job, 4 queue threads): makespan {local_make:6.2f} s,"
          f" longest queue {local_longest:6.2f} s, wall {local_wall:6.2f} s")
    print(f"cluster (2 workers on 127.0.0.1):  makespan {cl_make:6.2f} s,"
          f" longest queue {cl_longest:6.2f} s, wall {cl_wall:6.2f} s"
          " (wall includes waiting for the workers)")
    print(f"added cost per test: {per_test_ms:.1f} ms (target < 30 ms)")
    print(f"cluster makespan / longest queue: {ratio:.3f} (target <= 1.05)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
