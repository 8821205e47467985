"""Results directories into history rows: read outside the lock, write in one transaction.

A job's rows are keyed by its ``job_id``. The job row keeps the sha256 of the
results.json (and journal) it was made from: importing the same files again changes
nothing, importing changed ones (a ``--resume`` finished more tests) replaces every
row of that job. Everything ``select`` needs to give back the ``ResultsFile`` is in
the rows, so the index keeps working when a results directory is moved or deleted.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from kvmtest.results.latest import unique_paths
from kvmtest.results.records import TestResult
from kvmtest.results.store import (
    JOURNAL,
    PLAN_JSON,
    RESULTS_JSON,
    SCHEMA_VERSION,
    ResultsFile,
    load_results,
)

from .db import JOB_TABLES


@dataclass
class JobFiles:
    """One results directory, read and hashed, ready to be written as rows."""

    results_dir: Path
    data: ResultsFile
    sha256: str
    types: Dict[str, str] = field(default_factory=dict)  # test name -> its 'type' param (plan.json)


def results_dirs(paths: Sequence[Union[str, Path]]) -> List[Path]:
    """The results directories named by ``paths``: a results directory (or its results.json),
    or a directory of them (``results/``). FileNotFoundError names a path that is neither."""
    out: List[Path] = []
    for given in paths:
        p = Path(given)
        if p.is_file() and p.name == RESULTS_JSON:
            out.append(p.parent)
        elif (p / RESULTS_JSON).is_file():
            out.append(p)
        elif p.is_dir():
            found = sorted(d.parent for d in p.glob(f"*/{RESULTS_JSON}"))
            if not found:
                raise FileNotFoundError(f"{given}: no results.json in it nor in its subdirectories")
            out.extend(found)
        else:
            raise FileNotFoundError(f"{given}: no such results directory")
    return unique_paths(out)  # a directory named twice (or through results/latest) is one job


def read_dir(results_dir: Union[str, Path]) -> JobFiles:
    """Read a results directory (BadFileError/OSError when it cannot be read)."""
    d = Path(results_dir)
    if d.is_file():
        d = d.parent
    d = d.resolve()
    digest = hashlib.sha256((d / RESULTS_JSON).read_bytes())
    try:
        digest.update(b"\0" + (d / JOURNAL).read_bytes())  # results not yet in the snapshot
    except FileNotFoundError:
        pass
    data = load_results(d)
    return JobFiles(d, data, digest.hexdigest(), _plan_types(d / PLAN_JSON))


def _plan_types(path: Path) -> Dict[str, str]:
    """Test name -> 'type' param from plan.json (best effort: the type is a bonus for estimates)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        queues = doc.get("queues", []) if isinstance(doc, dict) else doc
        return {t["name"]: str(t.get("params", {}).get("type", ""))
                for q in queues for t in q.get("tests", []) if isinstance(t, dict) and "name" in t}
    except (OSError, ValueError, AttributeError, TypeError, KeyError):
        return {}


def tags_key(tags: Dict[str, str]) -> str:
    """The canonical text of a tag set ('kernel=6.8,role=dev'): jobs with equal keys are runs
    of the same thing (what ``flaky`` groups by)."""
    return ",".join(f"{k}={tags[k]}" for k in sorted(tags))


def stored_sha(conn: sqlite3.Connection, job_id: str) -> Optional[str]:
    row = conn.execute("SELECT results_sha256 FROM job WHERE job_id = ?", (job_id,)).fetchone()
    return row[0] if row else None


def delete_job(conn: sqlite3.Connection, job_id: str) -> None:
    for table in JOB_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE job_id = ?", (job_id,))


def write_job(conn: sqlite3.Connection, jf: JobFiles) -> bool:
    """Insert (or replace) the job's rows inside the caller's transaction; False: unchanged."""
    job = jf.data.job
    if stored_sha(conn, job.job_id) == jf.sha256:
        return False
    delete_job(conn, job.job_id)
    c = jf.data.counts()
    conn.execute(
        "INSERT INTO job VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (job.job_id, job.set, job.hostname, job.start, job.end, job.interrupted,
         str(jf.results_dir), jf.sha256, time.time(), SCHEMA_VERSION, jf.data.planned,
         tags_key(job.tags), c["PASS"], c["FAIL"], c["ERROR"], c["SKIP"], c["INTERRUPTED"],
         json.dumps(job.to_json())))
    conn.executemany("INSERT INTO job_tag VALUES (?,?,?)",
                     [(job.job_id, k, v) for k, v in job.tags.items()])
    conn.executemany("INSERT OR REPLACE INTO host_env VALUES (?,?,?,?)",
                     [(job.job_id, host, k, _text(v)) for host, facts in job.hosts.items()
                      for k, v in facts.items()])
    rows: List[Tuple[Any, ...]] = []
    metrics: List[Tuple[Any, ...]] = []
    for latest, results in ((1, jf.data.tests), (0, jf.data.superseded)):
        for seq, r in enumerate(results):
            rows.append(_result_row(job.job_id, r, seq, latest, jf.types.get(r.name, "")))
            metrics += [(job.job_id, r.id, r.attempt, i, m.name, m.value, m.unit, m.better)
                        for i, m in enumerate(r.metrics)]
    conn.executemany("INSERT OR REPLACE INTO result VALUES "
                     "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    conn.executemany("INSERT OR REPLACE INTO metric VALUES (?,?,?,?,?,?,?,?)", metrics)
    return True


def _result_row(job_id: str, r: TestResult, seq: int, latest: int, type_: str) -> Tuple[Any, ...]:
    return (job_id, r.id, r.attempt, seq, r.name, r.shortname, type_, r.hostname, r.queue,
            r.status, r.fail_class, r.fail_reason, r.start, r.end, r.time, r.logdir, r.accel,
            json.dumps([a.to_json() for a in r.addresses]), latest)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
