#!/usr/bin/env python3
"""Automatic assignment benchmark: makespan / lower bound and planning time (issue 14).

A synthetic job like the one in research/next-capabilities.md §2.4, on the pure
algorithm (kvmtest.plan.assign):

* 2,000 tests in bundles of 1, 2, 3 or 5 (tests linked by ``dep`` share a queue);
  durations log-normal (median 60 s, sigma 1.2: many tests of seconds) plus 1% of
  hour-long tests;
* 12 queues on 4 hosts (3 each), with eligibility limits: 10% of the bundles need a
  capability only host A has, 15% run only on hosts A and B (say Windows), 10% need
  many NICs (only the first queue of each host has a range that large), 5% are
  pinned to one queue;
* known durations: the plan's makespan / lower bound (goal <= 1.05);
* +-50% noise: each estimate is the real duration times uniform(0.5, 1.5); the plan
  is made on the estimates and its makespan measured with the real durations, over
  ``--seeds`` seeds (goal: median <= 1.15; the max is shown too);
* round-robin (each bundle in plan order on the next eligible queue, which is what a
  hand-written split does) beside it;
* planning time of 2,000 tests (goal < 1 s), best of 5; and, for scale, the whole
  ``kvmtest.load`` of a generated config with an ``assign = auto`` set of 2,000 tests on
  the same 12 queues (parse, expansion of 24,000 candidate dicts, choice, planning).

``python3 bench/assign_bench.py [--tests 2000] [--seeds 20]``; prints figures and
exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kvmtest.plan.assign import Bundle, assign, loads_of, lower_bound, round_robin  # noqa: E402

HOSTS = ("hostA", "hostB", "hostC", "hostD")
QUEUES = tuple(f"{h}/{q}" for h in HOSTS for q in (1, 2, 3))


def synthetic(n_tests: int, seed: int) -> List[Bundle]:
    """Bundles of real durations with their eligibility, in plan order."""
    rnd = random.Random(seed)
    bundles: List[Bundle] = []
    made = 0
    while made < n_tests:
        size = min(rnd.choice((1, 1, 1, 1, 2, 2, 3, 5)), n_tests - made)
        durations = []
        for _ in range(size):
            if rnd.random() < 0.01:
                durations.append(rnd.uniform(2400.0, 4200.0))  # an hour-long test
            else:
                durations.append(min(3000.0, rnd.lognormvariate(4.1, 1.2)))  # median ~60 s
        kind = rnd.random()
        if kind < 0.10:
            eligible: Tuple[str, ...] = tuple(q for q in QUEUES if q.startswith("hostA/"))
        elif kind < 0.25:
            eligible = tuple(q for q in QUEUES if q.startswith(("hostA/", "hostB/")))
        elif kind < 0.35:
            eligible = tuple(q for q in QUEUES if q.endswith("/1"))
        elif kind < 0.40:
            eligible = (rnd.choice(QUEUES),)
        else:
            eligible = QUEUES
        names = tuple(f"t{made + i:04d}" for i in range(size))
        bundles.append(Bundle(names[0], sum(durations), eligible, names))
        made += size
    return bundles


def with_estimates(bundles: List[Bundle], noise: float, seed: int) -> List[Bundle]:
    rnd = random.Random(seed * 7919 + 1)
    return [Bundle(b.name, b.duration * rnd.uniform(1 - noise, 1 + noise), b.eligible, b.members)
            for b in bundles]


def measure(bundles: List[Bundle], placement: Dict[str, str]) -> float:
    real = {b.name: b.duration for b in bundles}
    return max(loads_of(placement, real, QUEUES).values())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tests", type=int, default=2000)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--noise", type=float, default=0.5, help="estimate error, as a fraction")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    known, noisy, rr, times = [], [], [], []
    for seed in range(args.seeds):
        bundles = synthetic(args.tests, seed)
        lb = lower_bound(bundles, QUEUES)
        t0 = time.perf_counter()
        plan = assign(bundles, QUEUES)
        times.append(time.perf_counter() - t0)
        known.append(plan.makespan / lb)
        guessed = assign(with_estimates(bundles, args.noise, seed), QUEUES)
        noisy.append(measure(bundles, guessed.placement) / lb)
        rr.append(measure(bundles, round_robin(bundles, QUEUES)) / lb)
    bundles = synthetic(args.tests, 0)
    best = min(_timed(bundles) for _ in range(5))
    n_bundles = len(bundles)
    print(f"assign_bench: {args.tests} tests ({n_bundles} bundles, seed 0) on {len(QUEUES)} queues"
          f" of {len(HOSTS)} hosts, {args.seeds} seeds, load average {load:.1f}")
    print(f"{'makespan / lower bound':<36} median    max")
    for label, values in (("LPT + improvement, known", known),
                          (f"LPT + improvement, +-{args.noise:.0%} noise", noisy),
                          ("round-robin (plan order)", rr)):
        print(f"  {label:<34} {statistics.median(values):6.3f} {max(values):6.3f}")
    print(f"planning time: {best * 1000:.1f} ms (best of 5; seeds: median"
          f" {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms)")
    print(f"kvmtest.load of a {args.tests}-test auto set (config to plan): "
          f"{config_load_time(args.tests):.2f} s (best of 3)")
    failed = []
    if max(known) > 1.05:
        failed.append("known durations > 1.05")
    if statistics.median(noisy) > 1.15:
        failed.append(f"+-{args.noise:.0%} noise: median > 1.15")
    if best >= 1.0:
        failed.append("planning >= 1 s")
    print("goals: " + ("met" if not failed else "MISSED: " + ", ".join(failed)))
    return 1 if failed else 0


def config_load_time(n_tests: int) -> float:
    """Seconds for kvmtest.load of a generated auto set of n_tests on QUEUES (best of 3)."""
    import tempfile

    import kvmtest

    lines = ["variants:"]
    for i in range(n_tests):
        lines += [f"    - t{i:04d}:", "        type = sleep", f"        sleep_length = {i % 97}"]
    lines += ["variants:"] + [f"    - @q{q}:\n        queue = {q}\n        env = e{q}" for q in (1, 2, 3)]
    lines += ["variants:"] + [f"    - @{h}:\n        hostname = {h}" for h in HOSTS]
    some = " ".join(f"t{i:04d}" for i in range(0, n_tests, 10))  # 10% not on hostC, hostD
    lines += ["variants:", "    - @auto:", "        assign = auto", "        hostC, hostD:",
              f"            no {some}"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hosts.cfg"
        path.write_text("\n".join(lines) + "\n")
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            plan = kvmtest.load([str(path)], test_set="auto", local_host="hostA")
            best = min(best, time.perf_counter() - t0)
        assert len(plan.tests) == n_tests
    return best


def _timed(bundles: List[Bundle]) -> float:
    t0 = time.perf_counter()
    assign(bundles, QUEUES)
    return time.perf_counter() - t0


if __name__ == "__main__":
    sys.exit(main())
