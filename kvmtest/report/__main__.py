"""kvmtest report DIR [--baseline SPEC]... [-o FILE]  (also: ./run.py report, python -m kvmtest.report)

Write the HTML report of a results directory: one self-contained file (no network), by
default DIR/report.html, the file every job writes when it ends. Rewrite it after a
runner crash, elsewhere with -o, or with a comparison against a baseline (the rules of
``kvmtest compare``, docs/compare.md): DIR is the dev side, each --baseline a run of
the baseline. The exit status says whether the report was written, not whether the job
regressed (``kvmtest compare`` exits 1 for that).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from kvmtest.exitcodes import BAD_INPUT, INFRA, OK
from kvmtest.jsonfile import BadFileError
from kvmtest.results.latest import follow


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="kvmtest report", description=__doc__.split("\n")[0])
    ap.add_argument("dir", type=Path, help="results directory (or its results.json)")
    ap.add_argument("-o", "--output", type=Path, metavar="FILE",
                    help="where to write the report (default: DIR/report.html)")
    ap.add_argument("--baseline", action="append", default=[], metavar="SPEC",
                    help="compare with this baseline: a results directory, or from the history"
                         " a job id or a tag selection KEY=VALUE[,...] (every job so tagged);"
                         " repeatable: several runs are compared by counts, as kvmtest compare"
                         " does")
    ap.add_argument("--history", type=Path, metavar="FILE",
                    help="the history to draw the failures' history strips from and to look"
                         " --baseline job ids and tags up in (default $KVMTEST_HISTORY, else"
                         " ~/.local/share/kvmtest/history.db; used only when it exists)")
    return ap


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    from kvmtest.report.render import write_report
    from kvmtest.results.store import REPORT_HTML, load_results

    rdir = args.dir.parent if args.dir.name == "results.json" and args.dir.is_file() else args.dir
    rdir = follow(rdir)  # results/latest: the job it names now (its log links stay right)
    try:
        data = load_results(rdir)
    except (OSError, ValueError, KeyError, BadFileError) as exc:
        print(f"kvmtest report: cannot read {args.dir}: {exc}", file=sys.stderr)
        return BAD_INPUT
    output = args.output or rdir / REPORT_HTML
    if output.is_dir():
        output = output / REPORT_HTML
    if args.history and not args.history.is_file():
        print(f"kvmtest report: --history {args.history}: no such file", file=sys.stderr)
        return BAD_INPUT
    # the history and the baseline exactly as `kvmtest compare` reads them
    from kvmtest.compare.sides import SideError, compare_with_history, load_side, open_history
    from kvmtest.report.history import store_runs, strips

    try:
        history = open_history(args.history)  # None: no such file
    except SideError as exc:
        print(f"kvmtest report: {exc}", file=sys.stderr)
        return BAD_INPUT
    try:
        comparison = None
        if args.baseline:
            base = load_side(args.baseline, history, args.history)
            comparison = compare_with_history(base, [data], history)
        path = write_report(data, output, results_dir=rdir, comparison=comparison,
                            history=strips(store_runs(history), data) if history else None)
    except SideError as exc:
        print(f"kvmtest report: --baseline {exc}", file=sys.stderr)
        return BAD_INPUT
    except OSError as exc:
        print(f"kvmtest report: cannot write {output}: {exc}", file=sys.stderr)
        return INFRA if output.parent.is_dir() else BAD_INPUT
    finally:
        if history is not None:
            history.close()
    print(path)
    return OK


if __name__ == "__main__":
    sys.exit(main())
