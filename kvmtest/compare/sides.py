"""What a side of a comparison names: results directories, job ids, tag selections.

A SPEC is a results directory (or its results.json) when such a path exists; otherwise
it is looked up in the history (``kvmtest.history``): a job id (or a unique prefix of 4+
characters), or a tag selection ``kernel=6.8-rc1[,role=dev]`` meaning every job so
tagged. The history also says which tests are flaky on the baseline and how much a
test's duration usually varies. A history file that does not exist is no history: it is
never created here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple, Union

from kvmtest.compare.core import FIX, REGRESSION, SUSPECTED, Comparison, compare
from kvmtest.history import HistoryError, HistoryStore
from kvmtest.results.records import PASS
from kvmtest.results.store import RESULTS_JSON, ResultsFile, load_results

#: Runs of a test the history flaky rule looks at (the last N of the same set and tags).
FLAKY_WINDOW = 10
#: Recent durations whose spread (MAD) the one-run duration rule uses.
DURATION_WINDOW = 10


class SideError(Exception):
    """A side names nothing that can be read (the message says what and why)."""


def open_history(path: Union[str, Path, None] = None) -> Optional[HistoryStore]:
    """The history at ``path`` (default: ``kvmtest.paths.history_path()``), or None when that
    file does not exist. SideError when it exists but is not a usable history."""
    p = _history_file(path)
    if not p.is_file():
        return None
    try:
        return HistoryStore(p)
    except (HistoryError, OSError, ValueError) as exc:
        raise SideError(f"history {p}: {exc}") from None


def _history_file(path: Union[str, Path, None]) -> Path:
    from kvmtest.paths import history_path

    return Path(path) if path is not None else history_path()


def _is_results(path: Path) -> bool:
    return (path.is_dir() and (path / RESULTS_JSON).is_file()) or path.is_file()


def load_side(specs: Iterable[str], history: Optional[HistoryStore] = None,
              history_path: Union[str, Path, None] = None, lookup: bool = True
              ) -> List[ResultsFile]:
    """The results files ``specs`` name, in order (a selection's jobs oldest first).

    ``history``: an open store for job ids and tag selections; without one, the file at
    ``history_path`` (default location when None) is opened if a spec needs it, unless
    ``lookup`` is False (results directories only). SideError names the spec and why it
    cannot be read.
    """
    out: List[ResultsFile] = []
    opened = None
    try:
        for spec in specs:
            path = Path(spec)
            if _is_results(path):
                try:
                    out.append(load_results(path))
                except (OSError, ValueError) as exc:  # BadFileError is a ValueError
                    raise SideError(f"{spec}: cannot read: {exc}") from None
                continue
            if history is None and lookup:
                history = opened = open_history(history_path)
            if history is None:
                where = f"history file {_history_file(history_path)}" if lookup else "history"
                raise SideError(f"{spec}: not a results directory (no {RESULTS_JSON}), and there"
                                f" is no {where} to look it up in as a job id or tag selection")
            out += _from_history(spec, history)
    finally:
        if opened is not None:
            opened.close()
    return out


def _from_history(spec: str, history: HistoryStore) -> List[ResultsFile]:
    try:
        found = history.select(spec)
    except (ValueError, HistoryError) as exc:
        raise SideError(f"{spec}: not a results directory (no {RESULTS_JSON}), nor a job id or"
                        f" tag selection of the history {history.path}: {exc}") from None
    if not found:
        raise SideError(f"{spec}: not a results directory (no {RESULTS_JSON}), and no job of the"
                        f" history {history.path} matches it (kvmtest history list shows them)")
    return found


def flaky_on_base(base: Sequence[ResultsFile], history: Optional[HistoryStore]) -> Set[str]:
    """Short names the history finds flaky among the last FLAKY_WINDOW runs of a baseline
    job's set with exactly that job's tags (``HistoryStore.flaky``). Untagged jobs are
    not looked up: without a tag saying what ran, a change between two untagged jobs
    may be a real regression rather than flakiness."""
    if history is None:
        return set()
    kinds: Set[Tuple[str, Tuple[Tuple[str, str], ...]]] = {
        (f.job.set, tuple(sorted(f.job.tags.items()))) for f in base if f.job.tags}
    out: Set[str] = set()
    for test_set, tags in sorted(kinds):
        for row in history.flaky(last=FLAKY_WINDOW, tags=dict(tags), test_set=test_set or None):
            if row.tags == dict(tags) and row.set == test_set:
                out.add(row.shortname)
    return out


def recent_durations(shortnames: Iterable[str], history: Optional[HistoryStore],
                     base: Sequence[ResultsFile], dev: Sequence[ResultsFile]
                     ) -> Dict[str, List[float]]:
    """The history's last DURATION_WINDOW durations of each test named, from the ``base``
    jobs or jobs that started before the oldest ``dev`` job, never from the ``dev`` jobs:
    every run indexes itself, and a dev run counted in its own spread hides its slowdown.
    PASS runs only, as on the two sides: a failure's time says nothing of the test's speed."""
    if history is None:
        return {}
    return history.durations(sorted(set(shortnames)), last=DURATION_WINDOW,
                             statuses=(PASS,), **_earlier_jobs(base, dev))


def earlier_metrics(keys: Iterable[Tuple[str, str]], history: Optional[HistoryStore],
                    base: Sequence[ResultsFile], dev: Sequence[ResultsFile]
                    ) -> Dict[Tuple[str, str], List[float]]:
    """The history's last DURATION_WINDOW values of each (test, metric), from the same jobs
    as ``recent_durations`` (base jobs or older than the dev side, never the dev jobs)."""
    if history is None:
        return {}
    return history.metric_values(sorted(set(keys)), last=DURATION_WINDOW,
                                 **_earlier_jobs(base, dev))


def _earlier_jobs(base: Sequence[ResultsFile], dev: Sequence[ResultsFile]) -> Dict[str, Any]:
    """The history's job window of a comparison (``jobs``, ``before``, ``exclude``): the
    base jobs or jobs older than the oldest dev job, never the dev jobs themselves."""
    dev_ids = {f.job.job_id for f in dev}
    return {"jobs": {f.job.job_id for f in base} - dev_ids,
            "before": min((f.job.start for f in dev), default=None), "exclude": dev_ids}


def compare_with_history(base: Sequence[ResultsFile], dev: Sequence[ResultsFile],
                         history: Optional[HistoryStore], alpha: float = 0.05) -> Comparison:
    """``compare`` with what the history knows, asked only where it can change the answer:
    flakiness on the baseline for the tests whose verdict is regression, suspected or fix,
    usual durations for the one-run duration changes, and earlier values of the metrics
    with a single value on a side."""
    result = compare(base, dev, alpha=alpha)
    if history is None:
        return result
    candidates = {r.shortname for r in result.tests if r.verdict in (REGRESSION, SUSPECTED, FIX)}
    flaky = flaky_on_base(base, history) & candidates if candidates else set()
    changed = [d.shortname for d in result.durations if d.verdict and d.rule == "threshold"]
    durations = recent_durations(changed, history, base, dev) if changed else {}
    single = [(m.shortname, m.name) for m in result.metrics
              if m.base and m.dev and not m.rule]
    metrics = earlier_metrics(single, history, base, dev) if single else {}
    if flaky or durations or metrics:
        result = compare(base, dev, alpha=alpha, flaky=flaky, duration_history=durations,
                         metric_history=metrics)
    return result
