"""report.html as one more result format: written when each run of a job ends.

A report is a view for people, not a record: when it cannot be written (a full disk, a
bug in a template) the job goes on and keeps its exit status; the failure is logged and
``kvmtest report DIR`` writes it later from results.json.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import List, Optional, Union

from kvmtest.results.store import REPORT_HTML, ResultsFile
from kvmtest.results.writers import ResultWriter, default_writers

log = logging.getLogger("kvmtest.report")


class ReportWriter(ResultWriter):
    """``<results dir>/report.html``, written once per run in ``close`` (never during it:
    rendering is O(tests), snapshots must stay cheap). ``history``: the history file whose
    runs give the failures their history strips (used only when it exists)."""

    name = "report"

    def __init__(self, results_dir: Union[str, Path], history: Optional[Path] = None) -> None:
        self.results_dir = Path(results_dir)
        self.history = history

    def close(self, data: ResultsFile) -> None:
        out = self.results_dir / REPORT_HTML
        try:
            from kvmtest.report.history import store_runs, strips
            from kvmtest.report.render import write_report

            try:
                store = None
                if self.history is not None:
                    from kvmtest.compare.sides import open_history  # None: no such file

                    store = open_history(self.history)
                try:
                    write_report(data, out, results_dir=self.results_dir,
                                 history=strips(store_runs(store), data) if store else None)
                finally:
                    if store is not None:
                        store.close()
                return
            except Exception as exc:  # a locked or broken history: the report without it
                if self.history is None:
                    raise
                log.warning("report: with the history %s it failed (%s); written without it",
                            self.history, exc)
            write_report(data, out, results_dir=self.results_dir)
        except Exception as exc:  # never fails the job: the report can be rewritten later
            log.warning("could not write %s: %s (write it later with: kvmtest report %s)",
                        out, exc, self.results_dir)


def job_writers(results_dir: Union[str, Path], kcidb: Optional[Union[str, Path]] = None,
                history: Optional[Path] = None) -> List[ResultWriter]:
    """What a job writes: ``default_writers`` (results.json, results.xml, KCIDB if asked),
    then report.html (last: it reads what the others recorded), with strips from ``history``."""
    return [*default_writers(results_dir, kcidb), ReportWriter(results_dir, history)]
