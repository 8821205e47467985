"""The history: a SQLite index of finished jobs, for questions asked across runs.

Results directories stay the source of truth; the index is rebuilt from them at any
time (``kvmtest history rebuild DIR...``). Every job imports its own results directory
when a run ends (``--no-history`` skips it; a failed import only warns). The file is
``--history PATH``, else ``$KVMTEST_HISTORY``, else ``kvmtest.paths.history_path()``
(``~/.local/share/kvmtest/history.db``). See docs/history.md.

Library API (stable names; ``kvmtest compare``, the report and ``assign = auto`` use it):

``HistoryStore(path=None)`` (a context manager; ``.close()``)
    ``.import_dir(results_dir) -> job_id``: index one results directory. Idempotent: the
    job row keeps the sha256 of results.json (+ journal); the same files change nothing,
    changed ones (a ``--resume``) replace the job's rows.
    ``.rebuild(paths) -> [job_id]``: drop everything, import the results dirs under ``paths``.
    ``.jobs(tags=None, test_set=None, last=None) -> [JobRow]``: oldest first.
    ``.job_ids(selector) -> [job_id]`` / ``.select(selector) -> [ResultsFile]``: a job id (or
    a unique prefix of 4+ characters) or a tag selection ``"kernel=6.8-rc1[,role=dev]"``
    (every job carrying all those tags), oldest first; rebuilt from the index, so they work
    when the results directory was moved. ``.results(job_id) -> ResultsFile``.
    ``.durations(shortnames, last=5) -> {shortname: [seconds]}``: recent final runs (PASS,
    FAIL, ERROR, superseded attempts too), oldest first (a ``plan.estimate.DurationSource``);
    ``jobs=``/``before=`` keep runs of those jobs or of jobs started earlier, ``exclude=``
    drops jobs (compare: the dev side never feeds its own spread).
    ``.types(shortnames) -> {shortname: type}``: the test type plan.json gave it.
    ``.test_history(shortname, last=20, tags=None) -> [Run]``: its latest attempt per job.
    ``.flaky(last=10, tags=None, test_set=None, min_flips=1) -> [Flaky]``: tests with mixed
    pass/fail in the last ``last`` jobs of one set and one exact tag set (HistoryStore.flaky).

``parse_selection(text) -> {key: value}``; ``HistoryError`` (unusable file, ambiguous id).
"""

from kvmtest.history.db import HistoryError
from kvmtest.history.store import Flaky, HistoryStore, JobRow, Run, parse_selection

__all__ = ["Flaky", "HistoryError", "HistoryStore", "JobRow", "Run", "parse_selection"]
