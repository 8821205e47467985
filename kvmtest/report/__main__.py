"""kvmtest report DIR [-o FILE]  (also: ./run.py report DIR, python -m kvmtest.report DIR)

Write the HTML report of a results directory: one self-contained file (no network), by
default DIR/report.html, the file every job writes when it ends. Rewrite it after a
runner crash, or elsewhere with -o.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from kvmtest.exitcodes import BAD_INPUT, INFRA, OK
from kvmtest.jsonfile import BadFileError


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="kvmtest report", description=__doc__.split("\n")[0])
    ap.add_argument("dir", type=Path, help="results directory (or its results.json)")
    ap.add_argument("-o", "--output", type=Path, metavar="FILE",
                    help="where to write the report (default: DIR/report.html)")
    return ap


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
    try:
        path = write_report(data, output, results_dir=rdir)
    except OSError as exc:
        print(f"kvmtest report: cannot write {output}: {exc}", file=sys.stderr)
        return INFRA if output.parent.is_dir() else BAD_INPUT
    print(path)
    return OK


if __name__ == "__main__":
    sys.exit(main())
