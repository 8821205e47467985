"""kvmtest history {list,import,rebuild,flaky,show}: the index of finished jobs.

``run.py history ...`` and ``python -m kvmtest.history ...`` are the same. Exit codes
(kvmtest/exitcodes.py): 0 done, 2 bad input (a bad tag, a directory that is not a
results directory, an unusable history file), 3 the history could not be written.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sqlite3
import sys
from typing import Any, List, Optional, Sequence, Tuple

from kvmtest.exitcodes import BAD_INPUT, INFRA, OK
from kvmtest.history.db import HistoryError
from kvmtest.history.importer import results_dirs
from kvmtest.history.store import FLAKY_LAST, FLAKY_MIN_FLIPS, HistoryStore
from kvmtest.jsonfile import BadFileError
from kvmtest.results.records import parse_tags


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--history", metavar="FILE",
                        help="the history file (default $KVMTEST_HISTORY, else"
                             " ~/.local/share/kvmtest/history.db)")
    fmt = argparse.ArgumentParser(add_help=False)
    fmt.add_argument("--format", choices=("table", "json"), default="table")
    sel = argparse.ArgumentParser(add_help=False)
    sel.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                     help="only jobs with this tag (repeatable: all of them)")
    sel.add_argument("--set", dest="test_set", metavar="NAME", help="only jobs of this test set")
    ap = argparse.ArgumentParser(prog="kvmtest history", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    p = sub.add_parser("list", parents=[common, fmt, sel], help="the indexed jobs, oldest first")
    p.add_argument("--last", type=int, metavar="N", help="only the N most recent jobs")
    p = sub.add_parser("import", parents=[common],
                       help="index results directories (or directories of them); idempotent")
    p.add_argument("dirs", nargs="+", metavar="DIR")
    p = sub.add_parser("rebuild", parents=[common],
                       help="recreate the index from these results directories only")
    p.add_argument("dirs", nargs="+", metavar="DIR")
    p = sub.add_parser("flaky", parents=[common, fmt, sel],
                       help="tests with mixed pass/fail in the last jobs with the same tags")
    p.add_argument("--last", type=int, default=FLAKY_LAST, metavar="N",
                   help=f"jobs looked at per set and tag set (default {FLAKY_LAST})")
    p.add_argument("--min-flips", type=int, default=FLAKY_MIN_FLIPS, metavar="N",
                   help="pass<->fail changes needed (default 1: any mix; Allure TestOps uses 3)")
    p = sub.add_parser("show", parents=[common, fmt], help="one test's result in each job")
    p.add_argument("test", metavar="TEST", help="the test's short name")
    p.add_argument("--last", type=int, default=20, metavar="N", help="the N most recent (20)")
    p.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                   help="only jobs with this tag (repeatable)")
    return ap


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        if getattr(args, "last", 1) is not None and getattr(args, "last", 1) < 1:
            raise ValueError("--last must be at least 1")
        tags = parse_tags(getattr(args, "tag", []))
        with HistoryStore(args.history) as store:
            return COMMANDS[args.cmd](store, args, tags)
    except (ValueError, HistoryError, FileNotFoundError) as exc:  # BadFileError is a ValueError
        print(f"kvmtest history: error: {exc}", file=sys.stderr)
        return BAD_INPUT
    except (OSError, sqlite3.Error) as exc:
        print(f"kvmtest history: error: {exc}", file=sys.stderr)
        return INFRA


def _when(t: Optional[float]) -> str:
    return datetime.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M") if t else "-"


def _tags(tags: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in tags.items()) or "-"


def _table(rows: List[Tuple[Any, ...]], headers: Tuple[str, ...]) -> str:
    from kvmtest.texttable import simple_table

    return simple_table(rows, headers)


def _out(args: argparse.Namespace, items: List[Any], rows: List[Tuple[Any, ...]],
         headers: Tuple[str, ...], empty: str) -> int:
    if args.format == "json":
        print(json.dumps([i.to_json() for i in items], indent=1))
    elif rows:
        print(_table(rows, headers))
    else:
        print(empty)
    return OK


def cmd_list(store: HistoryStore, args: argparse.Namespace, tags: dict) -> int:
    jobs = store.jobs(tags or None, args.test_set, args.last)
    rows = [(j.job_id, j.set or "-", _tags(j.tags), _when(j.start), j.counts["PASS"],
             j.counts["FAIL"], j.counts["ERROR"], j.counts["SKIP"], j.counts["INTERRUPTED"],
             j.results_dir) for j in jobs]
    return _out(args, jobs, rows, ("job", "set", "tags", "started", "pass", "fail", "error",
                                   "skip", "interr.", "results"),
                f"no job in the history {store.path}")


def cmd_import(store: HistoryStore, args: argparse.Namespace, tags: dict) -> int:
    failed = 0
    for d in results_dirs(args.dirs):
        try:
            job_id, changed = store.import_dir_changed(d)
        except (BadFileError, OSError, ValueError) as exc:
            print(f"kvmtest history: error: {d}: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"{job_id} {'imported' if changed else 'unchanged'}: {d}")
    return BAD_INPUT if failed else OK


def cmd_rebuild(store: HistoryStore, args: argparse.Namespace, tags: dict) -> int:
    ids = store.rebuild(args.dirs)
    print(f"rebuilt {store.path}: {len(ids)} job(s)")
    return OK


def cmd_flaky(store: HistoryStore, args: argparse.Namespace, tags: dict) -> int:
    found = store.flaky(args.last, tags or None, args.test_set, args.min_flips)
    rows = [(f.shortname, f.set or "-", _tags(f.tags), f"{f.failed}/{f.runs}", f.flips,
             "".join(f.statuses)) for f in found]
    return _out(args, found, rows, ("test", "set", "tags", "failed", "flips",
                                    "runs (old -> new, P pass, F fail)"),
                f"no flaky test in the last {args.last} runs")


def cmd_show(store: HistoryStore, args: argparse.Namespace, tags: dict) -> int:
    runs = store.test_history(args.test, args.last, tags or None)
    with_metrics = any(r.metrics for r in runs)
    rows = []
    for r in runs:
        reason = (r.fail_reason or "").splitlines()[0][:80] if r.fail_reason else ""
        row: Tuple[Any, ...] = (_when(r.start), r.job_id, _tags(r.tags), f"{r.hostname}/{r.queue}",
                                r.status, f"{r.duration:.1f}")
        if with_metrics:
            row += (" ".join(f"{m.name}={m.value:g}{m.unit}" for m in r.metrics),)
        rows.append(row + (reason,))
    headers = ("started", "job", "tags", "host/queue", "status", "seconds") + (
        ("metrics",) if with_metrics else ()) + ("reason",)
    return _out(args, runs, rows, headers, f"no run of {args.test} in the history {store.path}")


COMMANDS = {"list": cmd_list, "import": cmd_import, "rebuild": cmd_rebuild, "flaky": cmd_flaky,
            "show": cmd_show}

if __name__ == "__main__":
    sys.exit(main())
