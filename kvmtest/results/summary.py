"""The end-of-job table: one row per queue, one column per status, and a total."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Dict, Optional

from kvmtest.results.records import PASS, STATUSES
from kvmtest.results.store import ResultsFile
from kvmtest.texttable import simple_table


def counts_by_queue(data: ResultsFile) -> Dict[str, Dict[str, int]]:
    rows: Dict[str, Dict[str, int]] = OrderedDict()
    for r in data.tests:
        row = rows.setdefault(f"{r.hostname}/{r.queue}", {s: 0 for s in STATUSES})
        row[r.status] += 1
    return rows


def all_passed(data: ResultsFile) -> bool:
    """Exit-0 rule: every planned test has a result and every result is PASS."""
    return (len(data.tests) >= data.planned and bool(data.tests)
            and all(r.status == PASS for r in data.tests))


def format_summary(data: ResultsFile, results_dir: Optional[Path] = None) -> str:
    rows = counts_by_queue(data)
    headers = ["queue", *STATUSES, "time"]
    table = []
    totals = {s: 0 for s in STATUSES}
    for key, c in sorted(rows.items()):
        t = sum(r.time for r in data.tests if f"{r.hostname}/{r.queue}" == key)
        table.append([key, *(c[s] for s in STATUSES), f"{t:.1f}s"])
        for s in STATUSES:
            totals[s] += c[s]
    table.append(["TOTAL", *(totals[s] for s in STATUSES), ""])
    lines = [simple_table(table, headers, right=range(1, len(STATUSES) + 1))]  # counts: numbers
    pending = max(0, data.planned - len(data.final_ids()))
    if pending:
        lines.append(f"{pending} planned test(s) have no final result: finish with --resume")
    if results_dir is not None:
        lines.append(f"results: {Path(results_dir)}")
    return "\n".join(lines)


def format_not_passed(data: ResultsFile, results_dir: Optional[Path] = None) -> str:
    """One line per test that did not pass: status, id and why (the reason's first line),
    then where its log is; '' when every result is PASS. The whole reason: results.json."""
    lines = []
    for r in data.not_passed():
        reason = r.reason_line
        lines.append(f"{r.status:<11} {r.id}" + (f": {reason}" if reason else ""))
        if r.logdir:
            log = Path(r.logdir) / "debug.log"
            lines.append(f"{'':<11} log: {Path(results_dir) / log if results_dir else log}")
    return "\n".join(lines)
