#!/usr/bin/env python3
"""Dry run of a 100,000+ test plan vs the bare config expansion, same run.

The plan is ``large.cfg`` from ../shared/bench (146,928 tests) under a hosts
file that spreads it over 2 hosts x 2 queues with 4 address ranges, so every
test is planned, validated and given addresses. The splits are ``only X`` /
``no X`` pairs, so each test is planned exactly once (same count as the bare
expansion). Each command runs 3 times (the commands in turn, round after round);
its best and median CPU time, median wall time and peak RSS (from wait4) are
printed, then the ratios: of the best CPU times (what the goal is read on, as
config_bench.py reads its ratios: this machine's noise only ever adds time), of
the medians, and of each round's pair. Goals: the dry run costs at most 1.3x the
bare expansion, and its peak RSS stays under 200 MiB (planning memory grows with
what is kept per test, not with a copy of every dict).

    python3 bench/plan_bench.py [--file large.cfg] [--repeat 3]
    python3 bench/plan_bench.py --digests-only --files medium.cfg,large.cfg --digests FILE

Every output's sha256 is printed too. ``--digests FILE`` compares them with FILE (written
when it does not exist yet): a change that must not alter the output (a memory or speed
fix) runs it once before and once after. ``--digests-only`` skips the bare expansions and
adds plan.json (``save_plan`` of the collected plan) for the files in ``--plan-json``
(small and medium ones: that planning keeps every test's dict, and large.cfg's plan.json
would be gigabytes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
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


def measure(argv, out_path: Path) -> tuple[float, int, int, str, float]:
    """(wall seconds, peak RSS KiB, output lines, sha256 of the output, CPU seconds) of one
    command.

    stdout comes through a pipe, hashed here as it arrives (as config_bench.py reads its
    tools): written to a file, a gigabyte of JSON cost the writer a second or more of
    page-cache work that varied from run to run by more than the dry run's own cost.
    The digest covers stdout then stderr (warnings and errors are output too)."""
    err_path = out_path.with_suffix(".err")
    lines, digest = 0, hashlib.sha256()
    with open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, cwd=ROOT)
        with proc.stdout:
            for chunk in iter(lambda: proc.stdout.read(1 << 20), b""):
                lines += chunk.count(b"\n")
                digest.update(chunk)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    if status != 0:
        sys.exit(f"command failed ({status}): {' '.join(argv)}")
    digest.update(err_path.read_bytes())
    return wall, usage.ru_maxrss, lines, digest.hexdigest(), usage.ru_utime + usage.ru_stime


# plan.json as a run writes it (the job record fixed, so that the file depends on the plan alone)
PLAN_JSON = """\
import sys
from pathlib import Path
from kvmtest.plan import collect, make_parser, new_planner
from kvmtest.results.records import JobInfo
from kvmtest.run.planfile import save_plan
parser = make_parser([sys.argv[1]], "everything")
plan = collect(parser, new_planner(parser, "host1"))
save_plan(Path(sys.argv[2]), JobInfo(job_id="bench", set="everything"),
          list(plan.queue_plans.values()))
"""


def plan_json(py: str, hosts: Path, work: Path) -> tuple[float, int, int, str, float]:
    """measure() of writing plan.json for ``hosts``; the output measured is the file."""
    target = work / "plan.json"
    measure([py, "-c", PLAN_JSON, str(hosts), str(target)], work / "out.txt")
    res = measure(["cat", str(target)], work / "out.txt")
    target.unlink()
    return res


def compare_digests(path: Path, digests: dict) -> bool:
    """Compare with the digests saved in ``path`` (saved there when it does not exist)."""
    if not path.exists():
        path.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
        print(f"digests saved to {path}")
        return True
    saved = json.loads(path.read_text())
    same = True
    for key, digest in sorted(digests.items()):
        if key not in saved:
            print(f"{key}: no saved digest")
        elif saved[key] != digest:
            print(f"{key}: DIGESTS DIFFER ({saved[key][:12]} before, {digest[:12]} now)")
            same = False
        else:
            print(f"{key}: identical ({digest[:12]})")
    return same


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--file", "--files", dest="files", default="large.cfg",
                    help="config(s) in ../shared/bench, comma-separated")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--corpus", default=str(SHARED), help="where the corpus is (../shared/bench)")
    ap.add_argument("--digests", metavar="FILE",
                    help="compare every output's sha256 with FILE (saved there if missing)")
    ap.add_argument("--digests-only", action="store_true",
                    help="only the dry runs and plan.json, once each, for --digests")
    ap.add_argument("--plan-json", default="small.cfg,medium.cfg", metavar="FILES",
                    help="with --digests-only: the files whose plan.json is digested too")
    args = ap.parse_args()
    work = ROOT / "bench" / "out"
    work.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    digests = {}
    print(f"load average before: {os.getloadavg()}")
    for name in args.files.split(","):
        cfg = Path(args.corpus) / name
        if not cfg.is_file():
            sys.exit(f"{cfg} not found: the bench needs ../shared/bench beside the repo (--corpus)")
        hosts = work / "hosts-bench.cfg"
        hosts.write_text(HOSTS.format(cfg=cfg))
        run = [py, str(ROOT / "run.py"), "-c", str(hosts), "--set", "everything", "--dry-run",
               "--all-hosts"]
        cases = {
            "bare expansion, JSON": [py, "-m", "kvmtest.config", "--json", str(cfg)],
            "dry run, JSON": run + ["--format", "json"],
            "bare expansion, names": [py, "-m", "kvmtest.config", str(cfg)],
            "dry run, table": run,
        }
        if args.digests_only:
            cases = {k: v for k, v in cases.items() if k.startswith("dry run")}
        results = {}
        # every case once per round, in turn: a machine that slows down or speeds up
        # during the bench moves both sides of a ratio alike
        rounds = []
        for n in range(1 if args.digests_only else args.repeat):
            rounds.append({})
            for label, argv in cases.items():
                got = rounds[-1][label] = measure(argv, work / "out.txt")
                print(f"  (round {n + 1}: {label} {got[0]:.2f} s, CPU {got[4]:.2f} s)", flush=True)
        for label in cases:
            runs = [r[label] for r in rounds]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[4] for r in runs)
            best = min(r[4] for r in runs)
            rss = max(r[1] for r in runs)
            results[label] = (wall, rss, runs[0][2], cpu, best)
            digests[f"{name}: {label}"] = runs[0][3]
            if len({r[3] for r in runs}) > 1:
                sys.exit(f"{name}: {label}: the output differs from one run to the next")
            print(f"{name}: {label:22s} {wall:7.2f} s (CPU median {cpu:6.2f} s, best {best:6.2f} s)"
                  f"  peak RSS {rss / 1024:6.1f} MiB  {runs[0][2]} lines  sha256 {runs[0][3][:12]}",
                  flush=True)
        if args.digests_only and name in args.plan_json.split(","):
            res = plan_json(py, hosts, work)
            digests[f"{name}: plan.json"] = res[3]
            print(f"{name}: plan.json {res[2]} lines  sha256 {res[3][:12]}", flush=True)
        if args.digests_only:
            continue
        for plan, bare in (("dry run, JSON", "bare expansion, JSON"),
                           ("dry run, table", "bare expansion, names")):
            ratio = results[plan][0] / results[bare][0]
            cpu_ratio = results[plan][3] / results[bare][3]
            best_ratio = results[plan][4] / results[bare][4]
            # (each round's own ratio: the two ran a few seconds apart, on the same machine)
            paired = " ".join(f"{r[plan][4] / r[bare][4]:.2f}" for r in rounds)
            rss = results[plan][1] / 1024
            print(f"{name}: {plan} / {bare}: best CPU {best_ratio:.2f}x"
                  f" ({'ok' if best_ratio <= 1.3 else 'OVER the 1.3x goal'}); median"
                  f" {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU; per round (CPU) {paired};"
                  f" peak RSS {rss:.1f} MiB ({'ok' if rss < 200 else 'OVER the 200 MiB goal'})")
    print(f"load average after: {os.getloadavg()}")
    if args.digests and not compare_digests(Path(args.digests), digests):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
