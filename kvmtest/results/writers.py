"""Result writers: one small interface per output format, and the store that feeds them.

A job does not know its formats. It builds a list of ``ResultWriter`` objects
(``default_writers``: results.json, results.xml, and KCIDB when asked) and
hands them to a ``ResultsStore``; pipelines call ``store.add(result)`` from
their threads and every writer sees every result. A new format (HTML, a
multi-host coordinator's merged view, a streaming uploader) is one more class
with up to four methods, in the style of avocado's ``plugin_interfaces`` and
pytest's ``hookspec``: each hook is documented here, where it is declared.

Cost per test stays flat as a job grows: ``test_finished`` must not rewrite a
whole file (that is O(tests) per test, O(tests^2) per job). results.json
appends one line to its journal (results.jsonl) per test; whole files are
rewritten by ``snapshot``, which the store calls at most every few seconds
(and never more than ~5 % of the time), and by ``open``/``close``.

Calls are serialised: the store holds its lock around every hook, so a writer
needs no locking of its own and always sees one consistent ``ResultsFile``. A
hook that raises propagates to the caller (the pipeline thread logs it, the job
fails loudly): a results file that silently stops updating is worse.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from kvmtest.fsutil import atomic_write
from kvmtest.results.junit import write_junit
from kvmtest.results.kcidb import write_kcidb
from kvmtest.results.records import TestResult
from kvmtest.results.store import JOURNAL, RESULTS_JSON, RESULTS_XML, ResultsFile

log = logging.getLogger("kvmtest.results")

#: Default seconds between snapshots of whole files while a job runs (``RunOptions`` sets it).
SNAPSHOT_INTERVAL = 5.0
#: A snapshot that takes d seconds is not repeated for 20 d: at most ~5 % of the time goes to it.
SNAPSHOT_DUTY = 20.0


class ResultWriter:
    """One output format of a job's results. Override the hooks you need; all default to no-op.

    Order per run of a job (a ``--resume`` is another run, with the earlier
    results already in ``data``): ``open`` once, ``test_finished`` once per
    recorded result, ``close`` once, even when the run is interrupted.
    """

    #: Short name for logs and error messages ("results.json", "junit", ...).
    name: str = "writer"

    def open(self, data: ResultsFile) -> None:
        """The run starts: ``data`` holds the job and, on resume, the earlier results.

        Called before any test runs, so a file written here exists even if the
        runner dies during the first test.
        """

    def test_finished(self, data: ResultsFile, result: TestResult) -> None:
        """``result`` was just recorded in ``data`` (replacing an earlier attempt of its test).

        Called from a pipeline thread, with the store's lock held: keep it short, and
        independent of how many results ``data`` holds (append, don't rewrite).
        """

    def snapshot(self, data: ResultsFile) -> None:
        """Bring whole files up to date with ``data``: results have been added since the last.

        The store calls it from its own thread, at most every ``snapshot_interval``
        seconds while tests end (after every test when the interval is 0).
        """

    def close(self, data: ResultsFile) -> None:
        """The run ended (finished, stopped or interrupted); ``data.job.end`` is set."""


class JsonWriter(ResultWriter):
    """results.json (a snapshot) plus results.jsonl (every result since it, one JSON line each).

    ``test_finished`` appends one line to the journal and flushes it to the kernel, so a
    SIGKILLed runner loses no result; ``snapshot``/``close`` rewrite results.json atomically
    and then empty the journal. ``load_results`` reads both (journal first, then the
    snapshot, so a snapshot taken in between loses nothing either).
    """

    name = "results.json"

    def __init__(self, results_dir: Union[str, Path]) -> None:
        self.path = Path(results_dir) / RESULTS_JSON
        self.journal = Path(results_dir) / JOURNAL
        self._cache: Dict[int, Tuple[TestResult, str]] = {}
        self._fd: Optional[int] = None

    def open(self, data: ResultsFile) -> None:
        self.snapshot(data)  # data holds what load_results merged: the journal can go

    def test_finished(self, data: ResultsFile, result: TestResult) -> None:
        if self._fd is None:
            self._fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
                               0o666)
        line = (self._encoded(result) + "\n").encode("utf-8")
        if os.write(self._fd, line) != len(line):  # one write: a kill never leaves half a line
            raise OSError(f"short write to {self.journal}")

    def snapshot(self, data: ResultsFile) -> None:
        atomic_write(self.path, self.render(data))
        if self._fd is not None:
            os.ftruncate(self._fd, 0)  # O_APPEND: the next line goes to the new end
        elif self.journal.exists():
            os.truncate(self.journal, 0)

    def close(self, data: ResultsFile) -> None:
        try:
            self.snapshot(data)
        finally:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def render(self, data: ResultsFile) -> str:
        """results.json text; same content as ``data.to_json()``, one test per line.

        A job rewrites the file after each of its N tests: entries are encoded
        once and cached, so a rewrite is a join, not a re-encoding of N records.
        """
        head = json.dumps(data.to_json_header(), indent=1)
        assert head.endswith("\n}")
        lists = []
        for key, records in (("tests", data.tests), ("superseded", data.superseded)):
            entries = ",\n  ".join(self._encoded(r) for r in records)
            lists.append(f' "{key}": [\n  {entries}\n ]' if records else f' "{key}": []')
        return head[:-2] + ",\n" + ",\n".join(lists) + "\n}\n"

    def _encoded(self, r: TestResult) -> str:
        """Records are not changed once added, so one encoding per record object is enough."""
        hit = self._cache.get(id(r))
        if hit is None or hit[0] is not r:
            hit = self._cache[id(r)] = (r, json.dumps(r.to_json()))
        return hit[1]


class JunitWriter(ResultWriter):
    """results.xml (JUnit), rewritten at every snapshot: at most a few seconds behind.

    After a runner crash ``python -m kvmtest.results DIR --junit DIR/results.xml`` (or the
    ``--resume``) brings it up to date from results.json and its journal.
    """

    name = "junit"

    def __init__(self, path: Union[str, Path]) -> None:
        self.path = Path(path)

    def open(self, data: ResultsFile) -> None:
        write_junit(data, self.path)

    def snapshot(self, data: ResultsFile) -> None:
        write_junit(data, self.path)

    def close(self, data: ResultsFile) -> None:
        write_junit(data, self.path)


class KcidbWriter(ResultWriter):
    """A KCIDB v5 file (``--kcidb FILE``), written once when the run ends."""

    name = "kcidb"

    def __init__(self, path: Union[str, Path], results_dir: Union[str, Path]) -> None:
        self.path = Path(path)
        self.results_dir = Path(results_dir)  # log_url values point into it

    def close(self, data: ResultsFile) -> None:
        write_kcidb(data, self.results_dir, self.path)


def default_writers(results_dir: Union[str, Path],
                    kcidb: Optional[Union[str, Path]] = None) -> List[ResultWriter]:
    """What a job writes unless told otherwise: results.json, results.xml, KCIDB if asked."""
    out: List[ResultWriter] = [JsonWriter(results_dir), JunitWriter(Path(results_dir) / RESULTS_XML)]
    if kcidb is not None:
        out.append(KcidbWriter(kcidb, results_dir))
    return out


class ResultsStore:
    """Thread-safe owner of a job's ResultsFile: every ``add`` goes to every writer.

    Pipelines call ``add`` from their own threads; the lock is held only for
    the in-memory update and the writers' ``test_finished`` (short by contract),
    so a slow or hung test never blocks another queue here. Between ``open`` and
    ``close`` a snapshot thread calls every writer's ``snapshot`` when results
    were added, at most every ``snapshot_interval`` seconds (0: after every
    ``add``, in the caller's thread). ``on_error`` gets what a snapshot raised
    (default: logged); the next snapshot tries again.
    """

    def __init__(self, data: ResultsFile, writers: Sequence[ResultWriter] = (),
                 snapshot_interval: float = 0.0,
                 on_error: Optional[Callable[[BaseException], None]] = None) -> None:
        self.data = data
        self.writers = list(writers)
        self.snapshot_interval = snapshot_interval
        self.on_error = on_error
        self._lock = threading.Lock()
        self._dirty = False
        self._wake = threading.Event()
        self._closing = False
        self._thread: Optional[threading.Thread] = None
        self._index: Optional[Dict[str, int]] = None  # test id -> position in data.tests

    def open(self) -> None:
        """Start of a run: every writer's ``open``, then the snapshot thread."""
        with self._lock:
            self._index = None  # data may have been edited since (resume bookkeeping)
            for w in self.writers:
                w.open(self.data)
        if self.snapshot_interval > 0 and self._thread is None:
            self._closing = False
            self._thread = threading.Thread(target=self._snapshots, name="results-snapshot",
                                            daemon=True)
            self._thread.start()

    def add(self, result: TestResult) -> None:
        """Record a result, replacing (and keeping as superseded) an earlier attempt."""
        with self._lock:
            index = self._indexed()
            at = index.get(result.id)
            if at is None:
                index[result.id] = len(self.data.tests)
                self.data.tests.append(result)
            else:  # in place: O(1) however many results the job has
                self.data.superseded.append(self.data.tests[at])
                self.data.tests[at] = result
            self._dirty = True
            for w in self.writers:
                w.test_finished(self.data, result)
            if self.snapshot_interval <= 0:
                self._snapshot_locked()

    def snapshot(self) -> None:
        """Every writer's ``snapshot`` now (if anything was added since the last one)."""
        with self._lock:
            self._snapshot_locked()

    def close(self) -> None:
        """End of a run: stop snapshots, every writer's ``close``; one failing does not stop the others."""
        if self._thread is not None:
            self._closing = True
            self._wake.set()
            self._thread.join()
            self._thread = None
            self._wake.clear()
        first: Optional[BaseException] = None
        with self._lock:
            for w in self.writers:
                try:
                    w.close(self.data)
                except Exception as exc:
                    first = first or exc
            self._dirty = False
        if first is not None:
            raise first

    def _snapshot_locked(self) -> None:
        if not self._dirty:
            return
        for w in self.writers:
            w.snapshot(self.data)
        self._dirty = False

    def _snapshots(self) -> None:
        wait = self.snapshot_interval
        while not self._wake.wait(wait) and not self._closing:
            t0 = time.monotonic()
            try:
                self.snapshot()
            except Exception as exc:  # disk full...: the job decides; try again next time
                if self.on_error is not None:
                    self.on_error(exc)
                else:
                    log.error("writing a results snapshot failed: %s", exc)
            wait = max(self.snapshot_interval, SNAPSHOT_DUTY * (time.monotonic() - t0))

    def result(self, test_id: str) -> Optional[TestResult]:
        with self._lock:
            at = self._indexed().get(test_id)
            return None if at is None else self.data.tests[at]

    def _indexed(self) -> Dict[str, int]:
        if self._index is None or len(self._index) != len(self.data.tests):
            self._index = {r.id: i for i, r in enumerate(self.data.tests)}
        return self._index

    def status_of(self, test_id: str) -> Optional[str]:
        r = self.result(test_id)
        return r.status if r is not None else None
