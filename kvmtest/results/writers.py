"""Result writers: one small interface per output format, and the store that feeds them.

A job does not know its formats. It builds a list of ``ResultWriter`` objects
(``default_writers``: results.json, results.xml, and KCIDB when asked) and
hands them to a ``ResultsStore``; pipelines call ``store.add(result)`` from
their threads and every writer sees every result. A new format (HTML, a
multi-host coordinator's merged view, a streaming uploader) is one more class
with up to three methods, in the style of avocado's ``plugin_interfaces`` and
pytest's ``hookspec``: each hook is documented here, where it is declared.

Calls are serialised: the store holds its lock around every hook, so a writer
needs no locking of its own and always sees one consistent ``ResultsFile``. A
hook that raises propagates to the caller (the pipeline thread logs it, the job
fails loudly): a results file that silently stops updating is worse.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from kvmtest.fsutil import atomic_write
from kvmtest.results.junit import write_junit
from kvmtest.results.kcidb import write_kcidb
from kvmtest.results.records import TestResult
from kvmtest.results.store import RESULTS_JSON, RESULTS_XML, ResultsFile


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

        Called from a pipeline thread, with the store's lock held: keep it short.
        """

    def close(self, data: ResultsFile) -> None:
        """The run ended (finished, stopped or interrupted); ``data.job.end`` is set."""


class JsonWriter(ResultWriter):
    """results.json, rewritten atomically after every test (what ``--resume`` reads)."""

    name = "results.json"

    def __init__(self, results_dir: Union[str, Path]) -> None:
        self.path = Path(results_dir) / RESULTS_JSON
        self._cache: Dict[int, Tuple[TestResult, str]] = {}

    def open(self, data: ResultsFile) -> None:
        atomic_write(self.path, self.render(data))

    def test_finished(self, data: ResultsFile, result: TestResult) -> None:
        atomic_write(self.path, self.render(data))

    def close(self, data: ResultsFile) -> None:
        atomic_write(self.path, self.render(data))

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
    """results.xml (JUnit), rewritten with results.json: a killed runner leaves it up to date."""

    name = "junit"

    def __init__(self, path: Union[str, Path]) -> None:
        self.path = Path(path)

    def open(self, data: ResultsFile) -> None:
        write_junit(data, self.path)

    def test_finished(self, data: ResultsFile, result: TestResult) -> None:
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
    the in-memory update and the writers' hooks, so a slow or hung test never
    blocks another queue here.
    """

    def __init__(self, data: ResultsFile, writers: Sequence[ResultWriter] = ()) -> None:
        self.data = data
        self.writers = list(writers)
        self._lock = threading.Lock()

    def open(self) -> None:
        """Start of a run: every writer's ``open``."""
        with self._lock:
            for w in self.writers:
                w.open(self.data)

    def add(self, result: TestResult) -> None:
        """Record a result, replacing (and keeping as superseded) an earlier attempt."""
        with self._lock:
            kept = []
            for r in self.data.tests:
                if r.id == result.id:
                    self.data.superseded.append(r)
                else:
                    kept.append(r)
            kept.append(result)
            self.data.tests = kept
            for w in self.writers:
                w.test_finished(self.data, result)

    def close(self) -> None:
        """End of a run: every writer's ``close``; one failing does not stop the others."""
        first: Optional[BaseException] = None
        with self._lock:
            for w in self.writers:
                try:
                    w.close(self.data)
                except Exception as exc:
                    first = first or exc
        if first is not None:
            raise first

    def result(self, test_id: str) -> Optional[TestResult]:
        with self._lock:
            for r in self.data.tests:
                if r.id == test_id:
                    return r
        return None

    def status_of(self, test_id: str) -> Optional[str]:
        r = self.result(test_id)
        return r.status if r is not None else None
