#!/usr/bin/env python3
"""Dry run of a 100,000+ test plan vs the bare config expansion, same run.

The plan is ``large.cfg`` from ../shared/bench (146,928 tests) under a hosts
file that spreads it over 2 hosts x 2 queues with 4 address ranges, so every
test is planned, validated and given addresses. The splits are ``only X`` /
``no X`` pairs, so each test is planned exactly once (same count as the bare
expansion). Each command runs 3 times;
the median wall time and the peak RSS (from wait4) are printed, then the
ratios. Goals: the dry run costs at most 1.3x the bare expansion, and its peak
RSS stays under 200 MiB (planning memory grows with what is kept per test, not
with a copy of every dict).

    python3 bench/plan_bench.py [--file large.cfg] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "bench"

HOSTS = """\
include {cfg}
base_mac_r0 = 02:10:00:00:00:00
base_ip_r0 = 10.30.0.0
range_size_r0 = 256
base_mac_r1 = 02:10:00:00:01:00
base_ip_r1 = 10.30.1.0
range_size_r1 = 256
base_mac_r2 = 02:10:00:00:02:00
base_ip_r2 = 10.30.2.0
range_size_r2 = 256
base_mac_r3 = 02:10:00:00:03:00
base_ip_r3 = 10.30.3.0
range_size_r3 = 256
variants:
    - @queue1:
        queue = 1
        env = env1
    - @queue2:
        queue = 2
        env = env2
variants:
    - @host1:
        hostname = host1
        queue1:
            mac_ranges = r0
        queue2:
            mac_ranges = r1
    - @host2:
        hostname = host2
        queue1:
            mac_ranges = r2
        queue2:
            mac_ranges = r3
variants:
    - @everything:
        host1:
            only up
        host2:
            no up
        queue1:
            only qcow2
        queue2:
            no qcow2
"""


def measure(argv, out_path: Path) -> tuple[float, int, int]:
    """(wall seconds, peak RSS KiB, output lines) of one command."""
    with open(out_path, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    if status != 0:
        sys.exit(f"command failed ({status}): {' '.join(argv)}")
    with open(out_path, "rb") as f:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    return wall, usage.ru_maxrss, lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--file", default="large.cfg", help="config in ../shared/bench")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--corpus", default=str(SHARED), help="where the corpus is (../shared/bench)")
    args = ap.parse_args()
    cfg = Path(args.corpus) / args.file
    if not cfg.is_file():
        sys.exit(f"{cfg} not found: the bench needs ../shared/bench beside the repo")
    work = ROOT / "bench" / "out"
    work.mkdir(parents=True, exist_ok=True)
    hosts = work / "hosts-bench.cfg"
    hosts.write_text(HOSTS.format(cfg=cfg))
    py = sys.executable
    run = [py, str(ROOT / "run.py"), "-c", str(hosts), "--set", "everything", "--dry-run", "--all-hosts"]
    cases = {
        "bare expansion, JSON": [py, "-m", "kvmtest.config", "--json", str(cfg)],
        "dry run, JSON": run + ["--format", "json"],
        "bare expansion, names": [py, "-m", "kvmtest.config", str(cfg)],
        "dry run, table": run,
    }
    results = {}
    print(f"load average before: {os.getloadavg()}")
    for label, argv in cases.items():
        runs = [measure(argv, work / "out.txt") for _ in range(args.repeat)]
        wall = statistics.median(r[0] for r in runs)
        rss = max(r[1] for r in runs)
        results[label] = (wall, rss, runs[0][2])
        print(f"{label:24s} {wall:7.2f} s  peak RSS {rss / 1024:6.1f} MiB  {runs[0][2]} lines", flush=True)
    print(f"load average after: {os.getloadavg()}")
    for plan, bare in (("dry run, JSON", "bare expansion, JSON"), ("dry run, table", "bare expansion, names")):
        ratio = results[plan][0] / results[bare][0]
        verdict = "ok" if ratio <= 1.3 else "OVER the 1.3x goal"
        rss = results[plan][1] / 1024
        print(f"{plan} / {bare}: {ratio:.2f}x ({verdict}); peak RSS {rss:.1f} MiB"
              f" ({'ok' if rss < 200 else 'OVER the 200 MiB goal'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
