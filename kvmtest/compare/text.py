"""A ``Comparison`` as text: tables grouped by verdict, then durations and metrics.

The metric table follows MMTests' compare-kernels layout: base and dev means and the
change in percent, in ``*...*`` when it is significant and in ``(...)`` when not.
"""

from __future__ import annotations

from typing import List, Optional

from kvmtest.compare.core import UNCHANGED, VERDICTS, Comparison, MetricRow, TestRow
from kvmtest.texttable import simple_table


def format_comparison(c: Comparison, show_unchanged: bool = False) -> str:
    out: List[str] = [f"base: {', '.join(c.base_jobs) or '-'}",
                      f"dev:  {', '.join(c.dev_jobs) or '-'}"]
    for verdict in VERDICTS:
        rows = c.rows(verdict)
        if not rows or (verdict == UNCHANGED and not show_unchanged):
            continue
        headers = ["test", "base", "dev", "p", "reason"]
        cells = [_test_cells(r) for r in rows]
        if all(r.p_value is None for r in rows):  # one run per side: no test was needed
            headers.remove("p")
            cells = [row[:3] + row[4:] for row in cells]
        out += ["", f"{verdict} ({len(rows)})",
                simple_table(cells, headers)]
    changed = [d for d in c.durations if d.verdict]
    if changed:
        out += ["", f"durations ({len(changed)} changed of {len(c.durations)} compared)",
                simple_table([[d.shortname, f"{d.base_mean:.2f}s ({len(d.base)})",
                               f"{d.dev_mean:.2f}s ({len(d.dev)})", pct(d.change_pct, True),
                               d.verdict] for d in changed],
                             ["test", "base", "dev", "change", "verdict"])]
    if c.metrics:
        out += ["", "metrics (base and dev means; *change* = significant, (change) = not)",
                simple_table([_metric_cells(m) for m in c.metrics],
                             ["test", "metric", "unit", "better", "base", "dev", "change", "samples",
                              "verdict"])]
    counts = ", ".join(f"{n} {v}" for v, n in c.counts().items() if n)
    out += ["", f"{counts or 'no tests'}; " + (
        "REGRESSED" if c.regressed else "no significant regression")]
    return "\n".join(out)


def _test_cells(r: TestRow) -> List[str]:
    p = "" if r.p_value is None else f"{r.p_value:.2g}"
    return [r.shortname, r.base.describe(), r.dev.describe(), p, r.why]


def pct(value: Optional[float], significant: bool) -> str:
    """A change in percent as the tables show it: ``*+1.00%*`` significant, ``(+1.00%)`` not,
    ``-`` unknown (the report uses it too, so both say the same)."""
    if value is None:
        return "-"
    text = f"{value:+.2f}%"
    return f"*{text}*" if significant else f"({text})"


def num(value: Optional[float]) -> str:
    """A mean as the tables show it (two decimals; ``-`` when there is none)."""
    return "-" if value is None else f"{value:.2f}"


def _metric_cells(m: MetricRow) -> List[str]:
    return [m.shortname, m.name, m.unit, m.better, num(m.base_mean), num(m.dev_mean),
            pct(m.change_pct, m.significant), f"{len(m.base)}/{len(m.dev)}", m.verdict]
