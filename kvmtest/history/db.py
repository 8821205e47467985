"""The SQLite file behind the history: schema, connections, one writer at a time.

WAL lets readers go on while a job imports; ``BEGIN IMMEDIATE`` takes the write lock
before anything is read, so two importing jobs queue (up to ``BUSY_TIMEOUT`` seconds)
instead of failing halfway; the busy timeout covers every lock wait. The schema's
version is in ``meta``: a file made by a newer kvmtest is refused, one made by an
older one is rebuilt from its results directories (``kvmtest history rebuild``).
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional, Union

SCHEMA_VERSION = 2  # 2: result_by_test covers durations (status, duration)
BUSY_TIMEOUT = 60.0  # seconds a writer waits for another one (an import takes well under 1 s)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS job(
    job_id TEXT PRIMARY KEY, test_set TEXT, hostname TEXT, start REAL, "end" REAL,
    interrupted TEXT, results_dir TEXT, results_sha256 TEXT, imported REAL,
    schema_version INTEGER, planned INTEGER, tags_key TEXT,
    pass INTEGER, fail INTEGER, error INTEGER, skip INTEGER, interrupt INTEGER,
    job_json TEXT);                         -- the whole results.json job object
CREATE INDEX IF NOT EXISTS job_by_start ON job(start);
CREATE TABLE IF NOT EXISTS job_tag(
    job_id TEXT, key TEXT, value TEXT, PRIMARY KEY(job_id, key));
CREATE INDEX IF NOT EXISTS tag_by_value ON job_tag(key, value);
CREATE TABLE IF NOT EXISTS host_env(
    job_id TEXT, hostname TEXT, key TEXT, value TEXT, PRIMARY KEY(job_id, hostname, key));
CREATE TABLE IF NOT EXISTS result(
    job_id TEXT, test_id TEXT, attempt INTEGER, seq INTEGER,
    name TEXT, shortname TEXT, type TEXT, hostname TEXT, queue TEXT, status TEXT,
    fail_class TEXT, fail_reason TEXT, start REAL, "end" REAL, duration REAL,
    logdir TEXT, accel TEXT, addresses TEXT,
    latest INTEGER,                         -- 1: in tests[], 0: a superseded attempt
    PRIMARY KEY(job_id, test_id, attempt));
CREATE INDEX IF NOT EXISTS result_by_test ON result(shortname, start, status, duration);
CREATE TABLE IF NOT EXISTS metric(
    job_id TEXT, test_id TEXT, attempt INTEGER, seq INTEGER,
    name TEXT, value REAL, unit TEXT, better TEXT CHECK(better IN ('higher', 'lower')),
    PRIMARY KEY(job_id, test_id, attempt, seq));
"""

#: Tables that hold a job's rows (deleted on a re-import, emptied by a rebuild).
JOB_TABLES = ("metric", "result", "host_env", "job_tag", "job")


class HistoryError(Exception):
    """The history file cannot be used: unreadable, not a history, or from a newer kvmtest."""


def connect(path: Union[str, Path]) -> sqlite3.Connection:
    """An autocommit connection (transactions are explicit) with the schema in place."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise HistoryError(f"history {path}: cannot open: {exc}") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
        _use_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints, never corrupt
        _ensure_schema(conn, path)
    except sqlite3.OperationalError as exc:  # locked for longer than BUSY_TIMEOUT, disk I/O...
        conn.close()
        raise HistoryError(f"history {path}: {exc}") from None
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise HistoryError(f"history {path}: not a usable SQLite file: {exc}") from None
    except HistoryError:
        conn.close()
        raise
    return conn


def _use_wal(conn: sqlite3.Connection) -> None:
    """Put the file in WAL mode (persistent: once per file).

    Processes that open a new file at once race to switch it, and SQLite answers
    a loser "database is locked" at once, not after the busy timeout (the switch
    upgrades a read transaction, which must not wait on a writer).  So a busy
    switch is retried, up to BUSY_TIMEOUT, until the file reads as WAL.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT
    pause = 0.001
    while conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        try:
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            if not _busy(exc) or time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(2 * pause, 0.1)


def _busy(exc: sqlite3.OperationalError) -> bool:
    """Whether ``exc`` is SQLITE_BUSY (its code where Python gives it, 3.11+)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return (code & 0xFF) == 5 if code is not None else "locked" in str(exc)


def _ensure_schema(conn: sqlite3.Connection, path: Path) -> None:
    have = _version(conn)
    if have == SCHEMA_VERSION:
        return
    if have is not None and have > SCHEMA_VERSION:
        raise HistoryError(f"history {path}: schema version {have} is newer than this kvmtest"
                           f" understands ({SCHEMA_VERSION}); upgrade kvmtest or use another"
                           " --history file")
    with write(conn):
        have = _version(conn)  # another process may have created it meanwhile
        if have is not None and have < SCHEMA_VERSION:  # an older layout: the dirs rebuild it
            for table in JOB_TABLES:
                conn.execute(f"DROP TABLE IF EXISTS {table}")
        if have != SCHEMA_VERSION:
            for stmt in SCHEMA.split(";"):
                if stmt.strip():
                    conn.execute(stmt)
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                         (str(SCHEMA_VERSION),))


def _version(conn: sqlite3.Connection) -> Optional[int]:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError:  # no meta table: a new file
        return None
    return int(row[0]) if row else None


@contextmanager
def write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: the lock is taken first (BEGIN IMMEDIATE), so writers queue."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
