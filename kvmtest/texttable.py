"""Plain aligned tables, as tabulate's ``simple`` layout prints them, without importing tabulate.

Every job ends with a summary table, and ``compare`` and ``history`` print tables too:
importing tabulate costs those processes ~40 ms of CPU (most of it ``importlib.metadata``,
which tabulate loads for its version). These tables are one line per row with short cells,
which this module prints byte for byte as tabulate does (``tests/results/test_texttable.py``
checks it against tabulate); a cell with a line break goes to tabulate itself.
"""

from __future__ import annotations

from typing import Any, Collection, List, Sequence

MIN_PADDING = 2  # tabulate's: a column is at least its header and two more characters wide


def simple_table(rows: Sequence[Sequence[Any]], headers: Sequence[str],
                 right: Collection[int] = ()) -> str:
    """``rows`` under ``headers``, columns left-aligned except those numbered in ``right``.

    The same text as ``tabulate(rows, headers, disable_numparse=True)`` when ``right`` is
    empty, and as ``tabulate(rows, headers)`` when ``right`` names its columns of numbers.
    ``None`` is an empty cell; cells are stripped, lines end without blanks.
    """
    cells = [["" if c is None else str(c).strip() for c in row] for row in rows]
    if any("\n" in c for row in cells for c in row):  # multi-line rows: tabulate's own layout
        from tabulate import tabulate

        return tabulate(rows, headers=headers, disable_numparse=not right)
    widths = [len(h) + MIN_PADDING for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if i in right else v.ljust(w)
                         for i, (v, w) in enumerate(zip(values, widths))).rstrip()

    out: List[str] = [line(list(headers)), "  ".join("-" * w for w in widths)]
    out.extend(line(row + [""] * (len(widths) - len(row))) for row in cells)
    return "\n".join(out)
