"""Durations of past runs read from results directories (``--durations FILE|DIR``).

A ``kvmtest.plan.estimate.DurationSource`` over results.json files: a file, a results
directory, or a directory of results directories (``results/``). Only final runs
count (PASS, FAIL, ERROR: a timeout counts with the time it took); SKIP and
INTERRUPTED say nothing about how long a test takes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

from kvmtest.results.latest import unique_paths
from kvmtest.results.records import ERROR, FAIL, PASS
from kvmtest.results.store import RESULTS_JSON, load_results

COUNTED = (PASS, FAIL, ERROR)


def results_files(paths: Sequence[Union[str, Path]]) -> List[Path]:
    """Every results.json under ``paths`` (a file, a results dir, or a dir of them)."""
    out: List[Path] = []
    for given in paths:
        p = Path(given)
        if p.is_file():
            out.append(p)
        elif (p / RESULTS_JSON).is_file():
            out.append(p / RESULTS_JSON)
        elif p.is_dir():
            found = sorted(p.glob(f"*/{RESULTS_JSON}"))
            if not found:
                raise FileNotFoundError(f"--durations {given}: no results.json in it nor in its"
                                        " subdirectories")
            out.extend(found)
        else:
            raise FileNotFoundError(f"--durations {given}: no such file or directory")
    return unique_paths(out)  # results/latest next to the job it names: one job, counted once


class ResultsDurations:
    """Test durations of the given results, oldest first per test."""

    def __init__(self, paths: Sequence[Union[str, Path]]) -> None:
        self.files = results_files(paths)  # (missing paths are reported now; read on first use)
        self._runs: Optional[Dict[str, List[float]]] = None

    def _load(self) -> Dict[str, List[float]]:
        runs: List[Tuple[float, str, float]] = []  # (start, shortname, seconds)
        for f in self.files:
            data = load_results(f)
            for r in [*data.superseded, *data.tests]:
                if r.status in COUNTED:
                    runs.append((r.start, r.shortname, r.time))
        out: Dict[str, List[float]] = {}
        for _, short, seconds in sorted(runs):
            out.setdefault(short, []).append(seconds)
        return out

    def durations(self, shortnames: Iterable[str], last: int = 5) -> Dict[str, List[float]]:
        if self._runs is None:
            self._runs = self._load()
        out = {}
        for s in shortnames:
            seen = self._runs.get(s)
            if seen:
                out[s] = seen[-last:] if last > 0 else []
        return out
