"""The HTML report of a job: one self-contained report.html (docs/report.md).

``write_report(results_dir)`` writes ``<results_dir>/report.html``; every job writes it
when a run ends (``ReportWriter``), and ``kvmtest report DIR`` rewrites it, optionally
with a baseline comparison and the tests' history.

The names are loaded on first use: the runner imports ``kvmtest.report.writer`` at
start-up, and Jinja2 is only needed when a report is rendered (a report that cannot be
rendered must not stop a job from starting).
"""

from typing import Any

from kvmtest.results.store import REPORT_HTML

__all__ = ["REPORT_HTML", "render_report", "write_report"]


def __getattr__(name: str) -> Any:
    if name in ("render_report", "write_report"):
        from kvmtest.report import render

        return getattr(render, name)
    raise AttributeError(f"module 'kvmtest.report' has no attribute {name!r}")
