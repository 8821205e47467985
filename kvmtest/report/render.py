"""Render report.html: one self-contained file (inline CSS, SVG and script; nothing fetched).

The Jinja2 templates are package data (``kvmtest/report/templates``), loaded through the
package so an installed kvmtest finds them. Autoescaping is on: every value from a result
is escaped unless it is ``Markup`` built by ``kvmtest.report.svg``/``view`` (which escape
what they embed themselves).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

from kvmtest.fsutil import atomic_write
from kvmtest.report.view import HistoryStrip, build_view
from kvmtest.results.store import REPORT_HTML, RESULTS_JSON, ResultsFile, load_results

if TYPE_CHECKING:
    from kvmtest.compare import Comparison


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    """One Environment per process (it keeps the compiled templates), with jinja's bytecode
    cache in the user's own temp dir (``$TMPDIR/_jinja2-cache-<uid>``, mode 0700, keyed by
    the template's source): every job writes a report, and compiling the templates again
    in each job's process cost more than rendering them."""
    import jinja2

    class QuietCache(jinja2.FileSystemBytecodeCache):
        def dump_bytecode(self, bucket: Any) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError:  # a full or read-only disk costs the next process a compile, no more
                pass

    try:
        cache: Optional[jinja2.BytecodeCache] = QuietCache()
    except (OSError, RuntimeError):  # no usable temp dir (jinja refuses one it does not own)
        cache = None
    return jinja2.Environment(
        loader=jinja2.PackageLoader("kvmtest.report", "templates"),
        autoescape=True,  # every template here is HTML
        undefined=jinja2.StrictUndefined,  # a typo in a template fails the tests, not silently
        trim_blocks=True, lstrip_blocks=True, bytecode_cache=cache,
    )


def render_report(data: ResultsFile, results_dir: Optional[Path] = None,
                  out_dir: Optional[Path] = None, comparison: Optional[Comparison] = None,
                  history: Optional[HistoryStrip] = None) -> str:
    """The report's HTML text. ``out_dir``: where it will be written (its log links are
    relative to it; default: the results directory itself). ``comparison``: this job (the
    dev side) against a baseline, from ``kvmtest.compare.compare``."""
    results_dir = Path(results_dir) if results_dir is not None else None
    out_dir = out_dir if out_dir is not None else results_dir
    view = build_view(data, results_dir, out_dir, history)
    shown = None
    if comparison is not None:
        from kvmtest.report.comparison import comparison_view

        shown = comparison_view(comparison, results_dir, out_dir, history)
    return _environment().get_template("report.html.j2").render(v=view, comparison=shown)


def write_report(results: Union[str, Path, ResultsFile], output: Optional[Path] = None,
                 results_dir: Optional[Path] = None, comparison: Optional[Comparison] = None,
                 history: Optional[HistoryStrip] = None) -> Path:
    """Write the report of a results directory (or of ``results`` already loaded, which then
    needs ``results_dir``) to ``output`` (default ``<results dir>/report.html``), atomically."""
    if isinstance(results, ResultsFile):
        data = results
        if results_dir is None:
            raise ValueError("write_report(ResultsFile) needs results_dir")
    else:
        p = Path(results)
        results_dir = p.parent if p.name == RESULTS_JSON and p.is_file() else p
        data = load_results(results_dir)
    output = Path(output) if output is not None else Path(results_dir) / REPORT_HTML
    html = render_report(data, Path(results_dir), output.absolute().parent, comparison, history)
    atomic_write(output, html, fsync=False)
    return output

