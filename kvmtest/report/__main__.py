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
from typing import Any, List, Optional

from kvmtest.exitcodes import BAD_INPUT, INFRA, OK
from kvmtest.jsonfile import BadFileError


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


def load_baseline(specs: List[str], store: Any, where: Path) -> list:
    """The baseline's ResultsFiles: each spec a results directory, else a history selector."""
    from kvmtest.compare.__main__ import SideError, load_side  # what `kvmtest compare` accepts

    out = []
    for spec in specs:
        if Path(spec).exists():
            out += load_side([spec])
            continue
        if store is None:
            raise SideError(f"{spec}: not a results directory, and there is no history ({where})"
                            " to look a job id or tags up in")
        try:
            found = store.select(spec)
        except ValueError as exc:  # a bad selector (an ambiguous id prefix: HistoryError)
            raise SideError(f"{spec}: {exc}") from None
        if not found:
            raise SideError(f"{spec}: no job in the history {where} has this id or these tags")
        out += found
    return out


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    from kvmtest.report.render import write_report
    from kvmtest.results.store import REPORT_HTML, load_results

    rdir = args.dir.parent if args.dir.name == "results.json" and args.dir.is_file() else args.dir
    try:
        data = load_results(rdir)
    except (OSError, ValueError, KeyError, BadFileError) as exc:
        print(f"kvmtest report: cannot read {args.dir}: {exc}", file=sys.stderr)
        return BAD_INPUT
    output = args.output or rdir / REPORT_HTML
    if output.is_dir():
        output = output / REPORT_HTML
    from kvmtest.history import HistoryError
    from kvmtest.paths import history_path
    from kvmtest.report.history import open_history, store_runs, strips

    where = args.history or history_path()
    if args.history and not args.history.is_file():
        print(f"kvmtest report: --history {args.history}: no such file", file=sys.stderr)
        return BAD_INPUT
    try:
        with open_history(where) as store:
            comparison = None
            if args.baseline:
                from kvmtest.compare import compare
                from kvmtest.compare.__main__ import SideError

                try:
                    comparison = compare(load_baseline(args.baseline, store, where), [data])
                except SideError as exc:
                    print(f"kvmtest report: --baseline {exc}", file=sys.stderr)
                    return BAD_INPUT
            path = write_report(data, output, results_dir=rdir, comparison=comparison,
                                history=strips(store_runs(store), data) if store else None)
    except HistoryError as exc:
        print(f"kvmtest report: history {where}: {exc}", file=sys.stderr)
        return BAD_INPUT
    except OSError as exc:
        print(f"kvmtest report: cannot write {output}: {exc}", file=sys.stderr)
        return INFRA if output.parent.is_dir() else BAD_INPUT
    print(path)
    return OK


if __name__ == "__main__":
    sys.exit(main())
