#!/usr/bin/env python3
"""Results-writing benchmark: the runner's per-test cost must stay flat as a job grows.

Runs N zero-length ``sleep`` tests spread over Q queues twice in one process, a
small job and a large one (default 100 and 10,000 over 16 queues), with the
real runner and the default result writers into a temp dir, and prints the
per-test overhead of each (run_job wall time / tests) and their ratio. Goal:
the large job's per-test overhead within 2x of the small one's. Also times one
rendering of results.json and results.xml at the large size (what a snapshot
costs). Asserts nothing. ``python3 bench/results_bench.py [--queues 16]
[--small 100] [--large 10000]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kvmtest.plan.model import PlannedTest, QueuePlan  # noqa: E402
from kvmtest.results.junit import to_junit  # noqa: E402
from kvmtest.run import RunOptions, new_job, run_job  # noqa: E402


def zero_job(queues: int, tests: int):
    out = []
    for qi in range(queues):
        name = f"q{qi}"
        n = tests // queues + (1 if qi < tests % queues else 0)
        out.append(QueuePlan("localhost", name, f"env-{name}", tests=[
            PlannedTest(name=f"bench.{name}.t{i}", shortname=f"t{i}",
                        params={"type": "sleep", "sleep_length": "0"},
                        hostname="localhost", queue=name, env=f"env-{name}")
            for i in range(n)]))
    return out


def per_test_ms(queues: int, tests: int, work: Path, label: str):
    opts = RunOptions(handle_signals=False, print_summary=False)
    cpu0, t0 = time.process_time(), time.monotonic()
    summary = run_job(zero_job(queues, tests), work / label, new_job(label, ["results_bench"]),
                      progress=lambda ev: None, options=opts)
    wall, cpu = time.monotonic() - t0, time.process_time() - cpu0
    results = summary.results.tests
    bad = [t.id for t in results if t.status != "PASS"]
    if bad or len(results) != tests:
        raise SystemExit(f"{label}: {len(bad)} test(s) did not pass, "
                         f"{len(results)} of {tests} recorded")
    span = max(t.end for t in results) - min(t.start for t in results)  # without job setup/close
    return wall / tests * 1000, cpu / tests * 1000, span / tests * 1000, summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--queues", type=int, default=16)
    ap.add_argument("--small", type=int, default=100)
    ap.add_argument("--large", type=int, default=10000)
    args = ap.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="kvmtest-results-bench-") as tmp:
        work = Path(tmp)
        small_wall, small_cpu, small_span, _ = per_test_ms(args.queues, args.small, work, "small")
        print(f"{args.small:>6} tests / {args.queues} queues: {small_wall:6.2f} ms/test wall, "
              f"{small_cpu:6.2f} ms/test CPU, {small_span:6.2f} ms/test first start -> last end")
        large_wall, large_cpu, large_span, summary = per_test_ms(args.queues, args.large, work,
                                                                 "large")
        print(f"{args.large:>6} tests / {args.queues} queues: {large_wall:6.2f} ms/test wall, "
              f"{large_cpu:6.2f} ms/test CPU, {large_span:6.2f} ms/test first start -> last end")
        print(f"ratio large/small: {large_wall / small_wall:.2f}x wall, "
              f"{large_cpu / small_cpu:.2f}x CPU, {large_span / small_span:.2f}x start->end"
              f"   goal: within 2x")
        from kvmtest.results.writers import JsonWriter

        t0 = time.monotonic()
        JsonWriter(work / "large").render(summary.results)
        t1 = time.monotonic()
        to_junit(summary.results)
        t2 = time.monotonic()
        print(f"one snapshot at {args.large} tests: results.json render {(t1 - t0) * 1000:.1f} ms,"
              f" JUnit tree {(t2 - t1) * 1000:.1f} ms")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
