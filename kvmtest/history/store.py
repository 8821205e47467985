"""``HistoryStore``: import results directories, and the questions asked across jobs.

The public names are listed in the package docstring (``kvmtest.history``); the
others may change.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Collection, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from kvmtest.plan.model import Address
from kvmtest.results.records import (
    ERROR,
    FAIL,
    INFRA_CLASSES,
    INTERRUPTED,
    PASS,
    SKIP,
    TIMEOUT_CLASS,
    JobInfo,
    Metric,
    TestResult,
    parse_tag,
)
from kvmtest.results.store import ResultsFile

from .db import HistoryError, connect, write
from .importer import read_dir, results_dirs, write_job

#: Statuses whose duration says how long a test takes (a timeout counts with the time it took).
COUNTED = (PASS, FAIL, ERROR)
FLAKY_LAST = 10
FLAKY_MIN_FLIPS = 1

_JOB_ID = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass
class JobRow:
    """One imported job, as ``history list`` shows it."""

    job_id: str
    set: str
    hostname: str
    start: float
    end: Optional[float]
    interrupted: Optional[str]
    results_dir: str
    planned: int
    tags: Dict[str, str]
    counts: Dict[str, int]  # by status

    def to_json(self) -> Dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Run:
    """One job's (latest) result of one test: a row of ``history show``."""

    job_id: str
    tags: Dict[str, str]
    start: float
    duration: float
    status: str
    fail_class: Optional[str]
    fail_reason: Optional[str]
    hostname: str
    queue: str
    attempt: int
    results_dir: str
    logdir: str
    accel: Optional[str]
    metrics: List[Metric] = field(default_factory=list)

    def to_json(self) -> Dict[str, Any]:
        return {**self.__dict__, "metrics": [m.to_json() for m in self.metrics]}


@dataclass
class Flaky:
    """A test with mixed results in the last jobs of one set and tag set."""

    shortname: str
    set: str
    tags: Dict[str, str]
    statuses: List[str]  # oldest first: "P" pass, "F" fail (FAIL, test ERROR, timeout)
    flips: int  # pass <-> fail transitions
    jobs: List[str] = field(default_factory=list)  # job ids, oldest first

    @property
    def runs(self) -> int:
        return len(self.statuses)

    @property
    def failed(self) -> int:
        return self.statuses.count("F")

    def to_json(self) -> Dict[str, Any]:
        return {**self.__dict__, "runs": self.runs, "failed": self.failed}


def parse_selection(text: str) -> Dict[str, str]:
    """'kernel=6.8-rc1,role=dev' -> {'kernel': '6.8-rc1', 'role': 'dev'} (ValueError if bad)."""
    return dict(parse_tag(part) for part in text.split(","))


class HistoryStore:
    """The history index at ``path`` (default ``kvmtest.paths.history_path()``)."""

    def __init__(self, path: Union[str, Path, None] = None) -> None:
        from kvmtest.paths import history_path

        self.path = Path(path) if path is not None else history_path()
        self.conn = connect(self.path)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------
    def import_dir(self, results_dir: Union[str, Path]) -> str:
        """Index one results directory; returns its job id. Idempotent (see importer)."""
        return self.import_dir_changed(results_dir)[0]

    def import_dir_changed(self, results_dir: Union[str, Path]) -> Tuple[str, bool]:
        """(job id, whether the index changed)."""
        jf = read_dir(results_dir)  # parsed before the lock: writers hold it for milliseconds
        with write(self.conn):
            changed = write_job(self.conn, jf)
        return jf.data.job.job_id, changed

    def rebuild(self, paths: Sequence[Union[str, Path]]) -> List[str]:
        """Drop every job and import the results directories under ``paths`` in one transaction
        (readers see the old index until it commits). Returns the job ids. A directory that
        cannot be read raises before anything is dropped."""
        files = [read_dir(d) for d in results_dirs(paths)]
        with write(self.conn):
            for table in ("metric", "result", "host_env", "job_tag", "job"):
                self.conn.execute(f"DELETE FROM {table}")
            for jf in files:
                write_job(self.conn, jf)
        return [jf.data.job.job_id for jf in files]

    # -- jobs ------------------------------------------------------------------------------
    def jobs(self, tags: Optional[Dict[str, str]] = None, test_set: Optional[str] = None,
             last: Optional[int] = None) -> List[JobRow]:
        """Imported jobs, oldest first (the ``last`` most recent when given)."""
        where, args = _job_filter(tags, test_set)
        sql = ("SELECT job_id, test_set, hostname, start, \"end\", interrupted, results_dir,"
               " planned, pass, fail, error, skip, interrupt FROM job j"
               f" WHERE {where} ORDER BY start DESC, job_id DESC")
        if last is not None:
            sql += f" LIMIT {int(last)}"
        rows = self.conn.execute(sql, args).fetchall()[::-1]
        tags_of = self._tags([r[0] for r in rows])
        return [JobRow(r[0], r[1] or "", r[2] or "", r[3], r[4], r[5], r[6], r[7],
                       tags_of.get(r[0], {}),
                       dict(zip((PASS, FAIL, ERROR, SKIP, INTERRUPTED), r[8:13])))
                for r in rows]

    def _tags(self, job_ids: Sequence[str]) -> Dict[str, Dict[str, str]]:
        out: Dict[str, Dict[str, str]] = {}
        for chunk in _chunks(job_ids):
            marks = ",".join("?" * len(chunk))
            for job_id, k, v in self.conn.execute(
                    f"SELECT job_id, key, value FROM job_tag WHERE job_id IN ({marks})"
                    " ORDER BY key", chunk):
                out.setdefault(job_id, {})[k] = v
        return out

    def job_ids(self, selector: str) -> List[str]:
        """The jobs a selector names, oldest first: a job id (or a unique prefix of at least 4
        characters) or a tag selection 'k=v[,k2=v2...]' (every job so tagged).
        ValueError for a malformed selector, HistoryError for an ambiguous prefix."""
        selector = selector.strip()
        if "=" in selector:
            where, args = _job_filter(parse_selection(selector), None)
            return [r[0] for r in self.conn.execute(
                f"SELECT job_id FROM job j WHERE {where} ORDER BY start, job_id", args)]
        if not _JOB_ID.fullmatch(selector):
            raise ValueError(f"{selector!r}: not a job id nor a tag selection KEY=VALUE[,...]")
        if self.conn.execute("SELECT 1 FROM job WHERE job_id = ?", (selector,)).fetchone():
            return [selector]
        if len(selector) < 4:
            return []
        hits = [r[0] for r in self.conn.execute(
            "SELECT job_id FROM job WHERE substr(job_id, 1, ?) = ? ORDER BY start",
            (len(selector), selector))]
        if len(hits) > 1:
            raise HistoryError(f"job id prefix {selector!r} is ambiguous: {', '.join(hits[:5])}")
        return hits

    def select(self, selector: str) -> List[ResultsFile]:
        """The results of the jobs ``selector`` names (see ``job_ids``), oldest first, rebuilt
        from the index (the results directories need not exist any more)."""
        return [self.results(job_id) for job_id in self.job_ids(selector)]

    def results(self, job_id: str) -> ResultsFile:
        """One job's results as ``kvmtest.results.load_results`` gave them at import."""
        row = self.conn.execute("SELECT job_json, planned FROM job WHERE job_id = ?",
                                (job_id,)).fetchone()
        if row is None:
            raise KeyError(job_id)
        metrics: Dict[Tuple[str, int], List[Metric]] = {}
        for test_id, attempt, name, value, unit, better in self.conn.execute(
                "SELECT test_id, attempt, name, value, unit, better FROM metric WHERE job_id = ?"
                " ORDER BY test_id, attempt, seq", (job_id,)):
            metrics.setdefault((test_id, attempt), []).append(Metric(name, value, unit, better))
        data = ResultsFile(job=JobInfo.from_json(json.loads(row[0])), planned=row[1])
        for r in self.conn.execute(
                "SELECT test_id, name, shortname, status, hostname, queue, start, \"end\","
                " fail_reason, fail_class, logdir, addresses, attempt, accel, latest"
                " FROM result WHERE job_id = ? ORDER BY latest DESC, seq", (job_id,)):
            res = TestResult(id=r[0], name=r[1], shortname=r[2], status=r[3], hostname=r[4],
                             queue=r[5], start=r[6], end=r[7], fail_reason=r[8], fail_class=r[9],
                             logdir=r[10], addresses=_addresses(r[11]),
                             attempt=r[12], accel=r[13], metrics=metrics.get((r[0], r[12]), []))
            (data.tests if r[14] else data.superseded).append(res)
        return data

    # -- per test --------------------------------------------------------------------------
    def durations(self, shortnames: Iterable[str], last: int = 5, *,
                  jobs: Optional[Collection[str]] = None, before: Optional[float] = None,
                  exclude: Collection[str] = (), statuses: Sequence[str] = COUNTED
                  ) -> Dict[str, List[float]]:
        """Per short name, the durations of its ``last`` most recent final runs (PASS, FAIL,
        ERROR; superseded attempts too), oldest first: a ``kvmtest.plan.estimate.DurationSource``.
        Tests never run are left out. ``jobs`` and/or ``before`` keep only runs of those jobs
        or of jobs started before that time (either, when both are given); ``exclude``'s jobs
        never count: a comparison's dev jobs must not widen the spread they are judged by.
        ``statuses``: which final runs count (a comparison, which times PASS runs only,
        asks for PASS: a failure that stops early must not widen the spread)."""
        out: Dict[str, List[float]] = {}
        if last <= 0:
            return out
        where, args = self._job_window(jobs, before, exclude)
        if not statuses:
            return out
        sql = ("SELECT duration FROM result INDEXED BY result_by_test WHERE shortname = ?"
               f" AND status IN ({','.join('?' * len(statuses))}){where}"
               " ORDER BY start DESC LIMIT ?")
        for short in dict.fromkeys(shortnames):  # one short index range each: O(tests x last)
            seen = [r[0] for r in self.conn.execute(sql, (short, *statuses, *args, last))]
            if seen:
                out[short] = seen[::-1]
        return out

    def metric_values(self, keys: Iterable[Tuple[str, str]], last: int = 10, *,
                      jobs: Optional[Collection[str]] = None, before: Optional[float] = None,
                      exclude: Collection[str] = ()) -> Dict[Tuple[str, str], List[float]]:
        """Per (shortname, metric name), its ``last`` most recent values (every sample of
        each final run), oldest first; ``jobs``, ``before`` and ``exclude`` as for
        ``durations``. Metrics never recorded are left out."""
        out: Dict[Tuple[str, str], List[float]] = {}
        if last <= 0:
            return out
        where, args = self._job_window(jobs, before, exclude, "r.job_id")
        sql = ("SELECT m.value FROM result r INDEXED BY result_by_test JOIN metric m"
               " ON m.job_id = r.job_id AND m.test_id = r.test_id AND m.attempt = r.attempt"
               f" WHERE r.shortname = ? AND r.latest = 1 AND m.name = ?{where}"
               " ORDER BY r.start DESC, m.seq DESC LIMIT ?")
        for short, name in dict.fromkeys(keys):
            seen = [r[0] for r in self.conn.execute(sql, (short, name, *args, last))]
            if seen:
                out[(short, name)] = seen[::-1]
        return out

    @staticmethod
    def _job_window(jobs: Optional[Collection[str]], before: Optional[float],
                    exclude: Collection[str], column: str = "job_id") -> Tuple[str, List[Any]]:
        """The SQL (`` AND ...``) and arguments keeping runs of ``jobs`` or of jobs started
        before ``before`` (either, when both are given), never of ``exclude``'s."""
        where = ""
        args: List[Any] = []
        keep: List[str] = []
        if jobs is not None:
            keep.append(f"{column} IN ({','.join('?' * len(jobs))})")
            args += sorted(jobs)
        if before is not None:
            keep.append(f"{column} IN (SELECT job_id FROM job WHERE start < ?)")
            args.append(before)
        if keep:
            where += f" AND ({' OR '.join(keep)})"
        if exclude:
            where += f" AND {column} NOT IN ({','.join('?' * len(exclude))})"
            args += sorted(exclude)
        return where, args

    def types(self, shortnames: Iterable[str]) -> Dict[str, str]:
        """Per short name, its test ``type`` as the most recent plan.json said ('' unknown)."""
        out: Dict[str, str] = {}
        for chunk in _chunks(list(dict.fromkeys(shortnames))):
            marks = ",".join("?" * len(chunk))
            for short, type_ in self.conn.execute(
                    f"SELECT shortname, type FROM result WHERE shortname IN ({marks})"
                    " AND type != '' ORDER BY start", chunk):
                out[short] = type_
        return out

    def test_history(self, shortname: str, last: Optional[int] = 20,
                     tags: Optional[Dict[str, str]] = None) -> List[Run]:
        """The test's result in each job that ran it (its latest attempt), oldest first."""
        where, args = _job_filter(tags, None)
        sql = ("SELECT r.job_id, r.start, r.duration, r.status, r.fail_class, r.fail_reason,"
               " r.hostname, r.queue, r.attempt, j.results_dir, r.logdir, r.accel"
               " FROM result r JOIN job j ON j.job_id = r.job_id"
               f" WHERE r.shortname = ? AND r.latest = 1 AND {where}"
               " ORDER BY r.start DESC")
        if last is not None:
            sql += f" LIMIT {int(last)}"
        rows = self.conn.execute(sql, (shortname, *args)).fetchall()[::-1]
        tags_of = self._tags(sorted({r[0] for r in rows}))
        metrics: Dict[str, List[Metric]] = {}
        for job_id, name, value, unit, better in self.conn.execute(
                "SELECT m.job_id, m.name, m.value, m.unit, m.better FROM result r JOIN metric m"
                " ON m.job_id = r.job_id AND m.test_id = r.test_id AND m.attempt = r.attempt"
                " WHERE r.shortname = ? AND r.latest = 1 ORDER BY m.seq", (shortname,)):
            metrics.setdefault(job_id, []).append(Metric(name, value, unit, better))
        return [Run(r[0], tags_of.get(r[0], {}), r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8],
                    r[9], r[10], r[11], metrics.get(r[0], [])) for r in rows]

    def flaky(self, last: int = FLAKY_LAST, tags: Optional[Dict[str, str]] = None,
              test_set: Optional[str] = None, min_flips: int = FLAKY_MIN_FLIPS) -> List[Flaky]:
        """Tests with mixed results in the last ``last`` jobs (runs) of one set and one tag set
        (jobs with exactly the same tags run the same thing): at least ``min_flips`` changes
        between pass and fail, oldest job to newest. 1 (the default) means any mix; Allure
        TestOps calls a test unstable at 3 flips in 10 launches. A FAIL, a test ERROR or a
        timeout is a fail; SKIP, a stopped test and infrastructure errors (INFRA_CLASSES) are
        not counted. ``tags``/``test_set`` narrow the jobs looked at. The cost grows with
        ``last`` x tag sets x tests, not with the size of the history."""
        where, args = _job_filter(tags, test_set)
        infra = ",".join("?" * len(INFRA_CLASSES))
        sql = f"""
        WITH jw AS (
            SELECT job_id, test_set, tags_key, start FROM (
                SELECT job_id, test_set, tags_key, start,
                       ROW_NUMBER() OVER (PARTITION BY test_set, tags_key
                                          ORDER BY start DESC, job_id DESC) AS rn
                FROM job j WHERE {where})
            WHERE rn <= ?),
        r AS (
            SELECT res.shortname, jw.test_set, jw.tags_key, res.job_id, jw.start AS jstart,
                   CASE WHEN res.status = 'PASS' THEN 'P' ELSE 'F' END AS outcome
            FROM jw JOIN result res ON res.job_id = jw.job_id
            WHERE res.latest = 1
              AND (res.status IN ('PASS', 'FAIL', 'ERROR')
                   OR (res.status = 'INTERRUPTED' AND res.fail_class = ?))
              AND (res.fail_class IS NULL OR res.fail_class NOT IN ({infra}))),
        mixed AS (SELECT test_set, tags_key, shortname FROM r GROUP BY 1, 2, 3
                  HAVING MIN(outcome) = 'F' AND MAX(outcome) = 'P')
        SELECT r.shortname, r.test_set, r.tags_key, r.outcome, r.job_id
        FROM r JOIN mixed USING (test_set, tags_key, shortname)
        ORDER BY r.shortname, r.test_set, r.tags_key, r.jstart, r.job_id"""
        rows = self.conn.execute(sql, (*args, int(last), TIMEOUT_CLASS, *INFRA_CLASSES))
        found: Dict[Tuple[str, str, str], Flaky] = {}
        for short, test_set_, key, outcome, job_id in rows:
            f = found.get((short, test_set_, key))
            if f is None:
                f = found[(short, test_set_, key)] = Flaky(
                    short, test_set_ or "", parse_selection(key) if key else {}, [], 0)
            if f.statuses and f.statuses[-1] != outcome:
                f.flips += 1
            f.statuses.append(outcome)
            f.jobs.append(job_id)
        return sorted((f for f in found.values() if f.flips >= max(1, min_flips)),
                      key=lambda f: (-f.flips, f.shortname, f.set))


def _job_filter(tags: Optional[Dict[str, str]], test_set: Optional[str]) -> Tuple[str, List[str]]:
    """SQL over the job table aliased ``j``: jobs carrying every tag given, of the set given."""
    parts, args = ["1"], []
    for k, v in (tags or {}).items():
        parts.append("j.job_id IN (SELECT job_id FROM job_tag WHERE key = ? AND value = ?)")
        args += [k, v]
    if test_set is not None:
        parts.append("j.test_set = ?")
        args.append(test_set)
    return " AND ".join(parts), args


def _addresses(text: str) -> List[Address]:
    return [Address.from_json(a) for a in json.loads(text)] if text != "[]" else []


def _chunks(items: Sequence[Any], size: int = 500) -> List[Sequence[Any]]:
    """SQLite limits the number of ? in one statement."""
    return [items[i:i + size] for i in range(0, len(items), size)]

