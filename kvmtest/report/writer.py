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
    rendering is O(tests), snapshots must stay cheap)."""

    name = "report"

    def __init__(self, results_dir: Union[str, Path]) -> None:
        self.results_dir = Path(results_dir)

    def close(self, data: ResultsFile) -> None:
        try:
            from kvmtest.report.render import write_report

            write_report(data, self.results_dir / REPORT_HTML, results_dir=self.results_dir)
        except Exception as exc:  # never fails the job: the report can be rewritten later
            log.warning("could not write %s: %s (write it later with: kvmtest report %s)",
                        self.results_dir / REPORT_HTML, exc, self.results_dir)


def job_writers(results_dir: Union[str, Path],
                kcidb: Optional[Union[str, Path]] = None) -> List[ResultWriter]:
    """What a job writes: ``default_writers`` (results.json, results.xml, KCIDB if asked),
    then report.html (last: it reads what the others recorded)."""
    return [*default_writers(results_dir, kcidb), ReportWriter(results_dir)]
