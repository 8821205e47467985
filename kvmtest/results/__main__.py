"""python -m kvmtest.results DIR [--junit FILE] [--kcidb FILE]  (also: ./run.py results DIR)

Print a results directory's tests that did not pass (status, id, the reason's first
line, the log) and its summary table (any results.json version) and, on request,
(re)write its JUnit or KCIDB export: e.g. after a runner crash, before ``--resume``,
when results.xml is older than results.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from kvmtest.exitcodes import BAD_INPUT, OK, TESTS_FAILED
from kvmtest.results.junit import write_junit
from kvmtest.results.kcidb import write_kcidb
from kvmtest.results.latest import follow
from kvmtest.results.store import load_results
from kvmtest.results.summary import all_passed, format_not_passed, format_summary


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kvmtest.results",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("dir", type=Path, help="results directory (or its results.json)")
    ap.add_argument("--junit", type=Path, help="write JUnit XML here")
    ap.add_argument("--kcidb", type=Path, help="write KCIDB v5 JSON here")
    args = ap.parse_args(argv)
    args.dir = follow(args.dir)  # results/latest: the job it names now, in the paths shown too
    try:
        data = load_results(args.dir)
    except (OSError, ValueError, KeyError) as exc:
        print(f"kvmtest.results: cannot read {args.dir}: {exc}", file=sys.stderr)
        return BAD_INPUT
    rdir = args.dir if args.dir.is_dir() else args.dir.parent
    if args.junit:
        write_junit(data, args.junit)
    if args.kcidb:
        write_kcidb(data, rdir, args.kcidb)
    failed = format_not_passed(data, rdir)
    if failed:
        print(failed)
    print(format_summary(data, rdir))
    return OK if all_passed(data) else TESTS_FAILED


if __name__ == "__main__":
    sys.exit(main())
