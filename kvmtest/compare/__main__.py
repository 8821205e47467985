"""kvmtest compare BASE DEV [--base SPEC]... [--dev SPEC]... [--history FILE] [--format table|json]

Compare a baseline with a dev side, test by test (docs/compare.md). Each SPEC is a
results directory (or its results.json), else a job id or a tag selection
(kernel=6.8-rc1[,role=dev]: every job so tagged) of the history. Exit status: 0 no
significant regression, 1 a regression (a test, or a metric whose change is
significant), 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from kvmtest.compare.sides import SideError, compare_with_history, load_side, open_history
from kvmtest.compare.text import format_comparison
from kvmtest.exitcodes import BAD_INPUT, OK, TESTS_FAILED

__all__ = ["SideError", "build_parser", "load_side", "main"]  # load_side: kvmtest report uses it


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="kvmtest compare",
                                 description=" ".join(__doc__.split("\n\n")[1].split()))
    ap.add_argument("base", metavar="BASE",
                    help="baseline: a results directory, a job id or a tag selection")
    ap.add_argument("dev", metavar="DEV", help="the side under test (the same kinds of SPEC)")
    ap.add_argument("--base", dest="more_base", action="append", default=[], metavar="SPEC",
                    help="more baseline runs (repeatable): several runs per side are"
                         " compared by counts (Fisher's exact test)")
    ap.add_argument("--dev", dest="more_dev", action="append", default=[], metavar="SPEC",
                    help="more dev runs (repeatable)")
    ap.add_argument("--history", metavar="FILE",
                    help="the history for job ids, tag selections, flaky tests and usual"
                         " durations (default $KVMTEST_HISTORY, else"
                         " ~/.local/share/kvmtest/history.db; docs/history.md)")
    ap.add_argument("--no-history", action="store_true",
                    help="use no history: sides are results directories, no test is known flaky")
    ap.add_argument("--format", choices=("table", "json"), default="table")
    ap.add_argument("--all", action="store_true", help="also list the unchanged tests")
    ap.add_argument("--alpha", type=float, default=0.05,
                    help="significance level of the Fisher test (default 0.05)")
    return ap


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if not 0 < args.alpha < 1:
        print("kvmtest compare: --alpha must be between 0 and 1", file=sys.stderr)
        return BAD_INPUT
    if args.history and args.no_history:
        print("kvmtest compare: --history FILE and --no-history contradict each other: give one",
              file=sys.stderr)
        return BAD_INPUT
    history = None
    try:
        if not args.no_history:
            history = open_history(args.history)
        lookup = not args.no_history
        base = load_side([args.base, *args.more_base], history, args.history, lookup)
        dev = load_side([args.dev, *args.more_dev], history, args.history, lookup)
        result = compare_with_history(base, dev, history, alpha=args.alpha)
    except SideError as exc:
        print(f"kvmtest compare: {exc}", file=sys.stderr)
        return BAD_INPUT
    finally:
        if history is not None:
            history.close()
    if args.format == "json":
        print(json.dumps(result.to_json(), indent=1))
    else:
        print(format_comparison(result, show_unchanged=args.all))
    return TESTS_FAILED if result.regressed else OK


if __name__ == "__main__":
    sys.exit(main())
