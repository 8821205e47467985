"""Jobs importing into one history at the same time: real processes, one SQLite file."""

from __future__ import annotations

import multiprocessing
import sqlite3

from kvmtest.history import HistoryStore
from kvmtest.history.db import connect
from tests.history.kit import write_job

T0 = 1_800_000_000.0
WORKERS = 4
JOBS_EACH = 15


def _importer(db: str, dirs: list, start, errors) -> None:
    start.wait()
    try:
        for d in dirs:
            with HistoryStore(db) as store:  # a new connection per job, as each run opens one
                store.import_dir(d)
                store.import_dir(d)  # idempotent, also under contention
                store.flaky()  # readers run while others write
    except Exception as exc:  # reported to the parent, which fails the test
        errors.put(f"{type(exc).__name__}: {exc}")


def _run(procs: list, errors, start=None) -> list:
    """Start ``procs`` (then set ``start``, if given), wait for them to exit 0, and
    return the failures they reported on ``errors``."""
    for p in procs:
        p.start()
    if start is not None:
        start.set()
    for p in procs:
        p.join(240)
    assert [p.exitcode for p in procs] == [0] * len(procs)
    failures = []
    while not errors.empty():
        failures.append(errors.get())
    return failures


def test_parallel_processes_import_without_loss_or_corruption(tmp_path):
    specs = [(f"t{i}", "PASS" if i % 3 else "FAIL") for i in range(40)]
    dirs = [[str(write_job(tmp_path / "r", f"w{w}j{j}", T0 + 100 * j + w, specs,
                           tags={"worker": str(w)}))
             for j in range(JOBS_EACH)] for w in range(WORKERS)]
    db = str(tmp_path / "h.db")
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: no state shared by fork
    start, errors = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_importer, args=(db, d, start, errors)) for d in dirs]
    assert _run(procs, errors, start) == []
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("SELECT count(*) FROM job").fetchone() == (WORKERS * JOBS_EACH,)
    assert conn.execute("SELECT count(*) FROM result").fetchone() == (WORKERS * JOBS_EACH * 40,)
    conn.close()
    with HistoryStore(db) as store:
        assert len(store.job_ids("worker=2")) == JOBS_EACH
        assert len(store.durations(["t1"], last=100)["t1"]) == WORKERS * JOBS_EACH


def _opener(paths: list, barrier, errors) -> None:
    for path in paths:
        barrier.wait()  # all at once, on a file none has made yet
        try:
            connect(path).close()
        except Exception as exc:  # reported to the parent, which fails the test
            errors.put(f"{type(exc).__name__}: {exc}")


def test_processes_opening_a_new_history_at_once_all_get_in(tmp_path):
    """The race to switch a new file to WAL: SQLite tells the losers "database is
    locked" at once, without the busy timeout (CI failed so, in the test above);
    before the retry, 32 of 1,200 such opens failed (4 processes, 300 new files)."""
    paths = [str(tmp_path / f"h{i}.db") for i in range(60)]
    ctx = multiprocessing.get_context("spawn")
    barrier, errors = ctx.Barrier(WORKERS), ctx.Queue()
    procs = [ctx.Process(target=_opener, args=(paths, barrier, errors)) for _ in range(WORKERS)]
    assert _run(procs, errors) == []
    for path in paths:
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        conn.close()
