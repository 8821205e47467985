#!/usr/bin/env python3
"""Scheduler benchmark: how close the runner gets to the ideal makespan, and its per-test cost.

1. makespan: Q queues of ``sleep`` tests of known lengths run as one job; the
   ideal makespan is the longest queue's total sleep. Goal: within 3 %.
2. overhead: N zero-length ``sleep`` tests in one queue; (wall time) / N is
   what the runner adds per test (thread, logdir, debug.log, results.json and
   results.xml rewrite, progress line). Goal: under 20 ms.

Real runner, real test type, real results directory (in a temp dir); prints
figures, asserts nothing. ``python3 bench/sched_bench.py [--queues 4] [--tests 200]``
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kvmtest.plan.model import PlannedTest, QueuePlan  # noqa: E402
from kvmtest.run import RunOptions, format_event, new_job, run_job  # noqa: E402


def sleep_test(queue: str, i: int, length: float) -> PlannedTest:
    return PlannedTest(name=f"bench.{queue}.t{i}", shortname=f"t{i}",
                       params={"type": "sleep", "sleep_length": f"{length:.3f}"},
                       hostname="localhost", queue=queue, env=f"env-{queue}")


def run(queues, workdir: Path, label: str):
    sink = []
    opts = RunOptions(handle_signals=False, print_summary=False)
    t0 = time.monotonic()
    summary = run_job(queues, workdir / label, new_job(f"bench-{label}", ["sched_bench"]),
                      progress=lambda ev: sink.append(format_event(ev)), options=opts)
    wall = time.monotonic() - t0
    bad = [t.id for t in summary.results.tests if t.status != "PASS"]
    if bad:
        raise SystemExit(f"{label}: tests did not pass: {bad}")
    tests = summary.results.tests
    span = max(t.end for t in tests) - min(t.start for t in tests)
    return wall, span


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--queues", type=int, default=4)
    ap.add_argument("--per-queue", type=int, default=8, help="sleep tests per queue")
    ap.add_argument("--tests", type=int, default=200, help="zero-length tests for the overhead run")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="kvmtest-bench-") as tmp:
        work = Path(tmp)
        queues = []
        totals = {}
        for qi in range(args.queues):
            name = f"q{qi}"
            lengths = [rnd.uniform(0.2, 1.2) for _ in range(args.per_queue)]
            totals[name] = sum(lengths)
            queues.append(QueuePlan("localhost", name, f"env-{name}",
                                    tests=[sleep_test(name, i, x) for i, x in enumerate(lengths)]))
        ideal = max(totals.values())
        wall, span = run(queues, work, "makespan")
        print(f"makespan: {args.queues} queues x {args.per_queue} sleep tests, "
              f"queue totals {', '.join(f'{v:.2f}' for v in totals.values())} s")
        print(f"  ideal (longest queue) {ideal:.3f} s, first start -> last end {span:.3f} s "
              f"({(span / ideal - 1) * 100:+.2f} %), run_job wall {wall:.3f} s "
              f"({(wall / ideal - 1) * 100:+.2f} %)   goal: within 3 %")

        zero = [QueuePlan("localhost", "q0", "env-q0",
                          tests=[sleep_test("q0", i, 0.0) for i in range(args.tests)])]
        wall, span = run(zero, work, "overhead")
        print(f"overhead: {args.tests} zero-length tests in one queue: "
              f"{span / args.tests * 1000:.2f} ms/test (first start -> last end), "
              f"{wall / args.tests * 1000:.2f} ms/test (run_job wall, incl. job setup)"
              f"   goal: under 20 ms")

        n2 = args.tests
        two = [QueuePlan("localhost", q, f"env-{q}",
                         tests=[sleep_test(q, i, 0.0) for i in range(n2 // 2)]) for q in ("a", "b")]
        wall, span = run(two, work, "overhead2")
        print(f"overhead: {n2} zero-length tests over 2 queues: "
              f"{wall / n2 * 1000:.2f} ms/test of wall time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
