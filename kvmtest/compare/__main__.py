"""kvmtest compare BASE DEV [--base SPEC]... [--dev SPEC]... [--format table|json]

Compare a baseline with a dev side, test by test (docs/compare.md). Each SPEC is a
results directory (or its results.json). Exit status: 0 no significant regression,
1 a regression (a test, or a metric whose change is significant), 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

from kvmtest.compare.core import compare
from kvmtest.compare.text import format_comparison
from kvmtest.exitcodes import BAD_INPUT, OK, TESTS_FAILED
from kvmtest.results.store import RESULTS_JSON, ResultsFile, load_results


class SideError(Exception):
    """A side names nothing that can be read (the message says what and why)."""


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="kvmtest compare", description=__doc__.split("\n")[2])
    ap.add_argument("base", metavar="BASE", help="baseline: a results directory")
    ap.add_argument("dev", metavar="DEV", help="the side under test: a results directory")
    ap.add_argument("--base", dest="more_base", action="append", default=[], metavar="SPEC",
                    help="one more baseline run (repeatable): several runs per side are"
                         " compared by counts (Fisher's exact test)")
    ap.add_argument("--dev", dest="more_dev", action="append", default=[], metavar="SPEC",
                    help="one more dev run (repeatable)")
    ap.add_argument("--format", choices=("table", "json"), default="table")
    ap.add_argument("--all", action="store_true", help="also list the unchanged tests")
    ap.add_argument("--alpha", type=float, default=0.05,
                    help="significance level of the Fisher test (default 0.05)")
    return ap


def load_side(specs: List[str]) -> List[ResultsFile]:
    """The results files the specs name, in order; SideError when one cannot be read."""
    out = []
    for spec in specs:
        path = Path(spec)
        if not (path.is_dir() and (path / RESULTS_JSON).is_file()) and not path.is_file():
            raise SideError(f"{spec}: not a results directory (no {RESULTS_JSON})")
        try:
            out.append(load_results(path))
        except (OSError, ValueError) as exc:  # BadFileError is a ValueError
            raise SideError(f"{spec}: cannot read: {exc}") from None
    return out


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if not 0 < args.alpha < 1:
        print("kvmtest compare: --alpha must be between 0 and 1", file=sys.stderr)
        return BAD_INPUT
    try:
        base = load_side([args.base, *args.more_base])
        dev = load_side([args.dev, *args.more_dev])
    except SideError as exc:
        print(f"kvmtest compare: {exc}", file=sys.stderr)
        return BAD_INPUT
    result = compare(base, dev, alpha=args.alpha)
    if args.format == "json":
        print(json.dumps(result.to_json(), indent=1))
    else:
        print(format_comparison(result, show_unchanged=args.all))
    return TESTS_FAILED if result.regressed else OK


if __name__ == "__main__":
    sys.exit(main())
