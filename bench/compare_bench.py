#!/usr/bin/env python3
"""Compare benchmark: `kvmtest compare` on a history of 300 jobs x 500 results (issue 13).

Builds the history of bench/history_bench.py (same generator: ~3 % failures, a few flaky
tests, metrics on 5 % of the tests, four kernel tags, role baseline/dev), then times:

- ``compare()`` of two jobs read from their results directories (target: under 0.2 s);
- the whole command, ``kvmtest compare ID ID`` (history look-up, flaky, durations, table);
- tag selection against tag selection (``kernel=6.8,role=baseline`` vs ``kernel=6.9,role=dev``:
  dozens of runs per side, Fisher's test per test), library and command;
- ``compare()`` of two 10,000-test jobs (the report's size).

It asserts nothing. ``python3 bench/compare_bench.py [--jobs 300] [--tests 500] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from history_bench import make_job  # noqa: E402

from kvmtest.compare import compare, compare_with_history, flaky_on_base, load_side  # noqa: E402
from kvmtest.compare.__main__ import main as compare_main  # noqa: E402
from kvmtest.compare.sides import recent_durations  # noqa: E402
from kvmtest.compare.text import format_comparison  # noqa: E402
from kvmtest.history import HistoryStore  # noqa: E402
from kvmtest.results import load_results  # noqa: E402


def timed(label: str, fn, *args, **kw):
    best, out = None, None
    for _ in range(3):  # best of 3: the machine is shared
        t = time.perf_counter()
        out = fn(*args, **kw)
        d = time.perf_counter() - t
        best = d if best is None else min(best, d)
    print(f"  {label:<58} {best:8.3f} s")
    return out


def quiet_main(*argv: str) -> int:
    with contextlib.redirect_stdout(io.StringIO()):
        return compare_main(list(argv))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=300)
    ap.add_argument("--tests", type=int, default=500)
    ap.add_argument("--keep", type=Path, help="build here and keep it (default: a temp dir)")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="compare-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    db = work / "history.db"
    rng = random.Random(13)
    t = time.perf_counter()
    if not (work / "results").is_dir():
        for n in range(args.jobs):
            make_job(work / "results", n, args.tests, rng)
    dirs = sorted((work / "results").iterdir())
    with HistoryStore(db) as store:
        if len(store.jobs()) < len(dirs):  # new, or dropped by a newer history layout
            for d in dirs:
                store.import_dir(d)
            print(f"built {len(dirs)} jobs x {args.tests} results and their history in"
                  f" {time.perf_counter() - t:.1f} s")
    a, b = dirs[-4], dirs[-3]  # kernel 6.8 baseline, kernel 6.9 dev
    base, dev = load_results(a), load_results(b)
    c = timed("compare() of two jobs (results read already)", compare, [base], [dev])
    print(f"    -> {c.counts()}")
    timed("format_comparison() of it", format_comparison, c)
    timed("load_results() of both + compare()", lambda: compare([load_results(a)],
                                                                [load_results(b)]))
    hist = ["--history", str(db)]
    timed(f"kvmtest compare {base.job.job_id} {dev.job.job_id} (command, in-process)",
          quiet_main, base.job.job_id, dev.job.job_id, *hist)
    with HistoryStore(db) as store:
        sel_b = load_side(["kernel=6.8,role=baseline"], store)
        sel_d = load_side(["kernel=6.9,role=dev"], store)
        print(f"    tag selections: {len(sel_b)} vs {len(sel_d)} jobs")
        flaky = timed("flaky_on_base() of the baseline selection", flaky_on_base, sel_b, store)
        names = {r.shortname for f in sel_b for r in f.tests}
        durs = timed("recent_durations() of all its tests", recent_durations, names, store)
        c = timed("compare() of the two selections", compare, sel_b, sel_d, flaky=flaky,
                  duration_history=durs)
        print(f"    -> {c.counts()}")
        c = timed("compare_with_history() of the two selections", compare_with_history,
                  sel_b, sel_d, store)
        one = timed("compare_with_history() of two jobs", compare_with_history, [base], [dev],
                    store)
        print(f"    -> {one.counts()}")
    timed("kvmtest compare kernel=6.8,role=baseline kernel=6.9,role=dev", quiet_main,
          "kernel=6.8,role=baseline", "kernel=6.9,role=dev", *hist)
    big = work / "big"
    if not big.exists():
        make_job(big, 0, 10_000, rng)
        make_job(big, 1, 10_000, rng)
    b0, b1 = (load_results(p) for p in sorted(big.iterdir()))
    c = timed("compare() of two 10,000-test jobs", compare, [b0], [b1])
    timed("format_comparison() of it", format_comparison, c)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.keep is None:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
