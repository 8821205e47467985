"""results.json: versioned, rewritten atomically (a snapshot), plus its journal results.jsonl.

A reader may be handed any version this module ever wrote (or avocado's own
results.json, which we call version 1): ``load_results`` upgrades it step by
step to ``SCHEMA_VERSION`` before building records, so callers see one shape.
The layout is documented in docs/results.md; tests check the two agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Union

from kvmtest.jsonfile import BadFileError, Checker, load_json
from kvmtest.results.records import (
    BETTER,
    ERROR,
    FAIL,
    INTERRUPTED,
    PASS,
    SKIP,
    STATUSES,
    JobInfo,
    TestResult,
    is_final,
)

SCHEMA_VERSION = 3
RESULTS_JSON = "results.json"
RESULTS_XML = "results.xml"
REPORT_HTML = "report.html"  # kvmtest.report
JOURNAL = "results.jsonl"  # results recorded since results.json was last written, one per line
PLAN_JSON = "plan.json"
JOB_LOG = "job.log"


@dataclass
class ResultsFile:
    """The whole of results.json as records."""

    job: JobInfo
    tests: List[TestResult] = field(default_factory=list)
    superseded: List[TestResult] = field(default_factory=list)  # earlier attempts of re-run tests
    planned: int = 0

    def __iter__(self) -> Iterator[TestResult]:
        """The test results (latest attempt of each): ``for r in summary.results``."""
        return iter(self.tests)

    def __len__(self) -> int:
        return len(self.tests)

    def not_passed(self) -> List[TestResult]:
        """Results whose status is not PASS, in run order (what a person looks at first)."""
        return [r for r in self.tests if r.status != PASS]

    def by_id(self) -> Dict[str, TestResult]:
        return {r.id: r for r in self.tests}

    def final_ids(self) -> set:
        """Ids ``--resume`` keeps (status PASS/FAIL/ERROR/SKIP)."""
        return {r.id for r in self.tests if is_final(r.status)}

    def counts(self) -> Dict[str, int]:
        c = {s: 0 for s in (PASS, FAIL, ERROR, SKIP, INTERRUPTED)}
        for r in self.tests:
            c[r.status] += 1
        return c

    def to_json(self) -> Dict[str, Any]:
        d = self.to_json_header()
        d["tests"] = [r.to_json() for r in self.tests]
        d["superseded"] = [r.to_json() for r in self.superseded]
        return d

    def to_json_header(self) -> Dict[str, Any]:
        """Everything but the ``tests`` and ``superseded`` lists."""
        c = self.counts()
        end = self.job.end if self.job.end is not None else max(
            [r.end for r in self.tests] or [self.job.start]
        )
        return {
            "schema_version": SCHEMA_VERSION,
            "job": self.job.to_json(),
            "job_id": self.job.job_id,
            "debuglog": "job.log",
            "planned": self.planned,
            "pending": max(0, self.planned - len(self.final_ids())),
            "total": len(self.tests),
            "pass": c[PASS],
            "failures": c[FAIL],
            "errors": c[ERROR],
            "skip": c[SKIP],
            "interrupt": c[INTERRUPTED],
            "time": round(max(0.0, end - self.job.start), 6),
        }

    @classmethod
    def from_json(cls, data: Any, source: Union[str, Path] = RESULTS_JSON) -> ResultsFile:
        """Records from a decoded results.json of any known version.

        A document of the wrong shape raises BadFileError naming ``source`` and the bad key.
        """
        c = Checker(source)
        c.expect(data, dict, "the top level")
        if "schema_version" not in data and not isinstance(data.get("tests"), list):
            raise c.fail("no 'schema_version' and no 'tests' list: neither a kvmtest nor an "
                         "avocado results.json")
        if c.get(data, "schema_version", int, "the top level", 1) == 1:
            for i, t in enumerate(data["tests"]):
                c.get(c.expect(t, dict, f"tests[{i}]"), "name", str, f"tests[{i}]")
        data = upgrade(data)
        job = c.get(data, "job", dict, "the top level")
        c.get(job, "job_id", str, "job")
        c.get(job, "start", (int, float), "job", 0.0)
        c.get(job, "runs", list, "job", [])
        for kind, path in c.get(job, "exports", dict, "job", {}).items():
            c.expect(path, str, f"job.exports[{kind!r}]")
        for key, value in c.get(job, "tags", dict, "job", {}).items():
            c.expect(value, str, f"job.tags[{key!r}]")
        for host, facts in c.get(job, "hosts", dict, "job", {}).items():
            c.expect(facts, dict, f"job.hosts[{host!r}]")
        tests = [_result(c, t, f"tests[{i}]") for i, t in enumerate(c.get(data, "tests", list, ""))]
        superseded = [_result(c, t, f"superseded[{i}]")
                      for i, t in enumerate(c.get(data, "superseded", list, "", []))]
        return cls(job=JobInfo.from_json(job), tests=tests, superseded=superseded,
                   planned=c.get(data, "planned", int, "the top level", len(tests)))


def _result(c: Checker, t: Any, where: str) -> TestResult:
    c.expect(t, dict, where)
    test_id = c.get(t, "id", str, where)
    where = f"{where} ({test_id})"
    for key in ("name", "shortname", "hostname", "queue"):
        c.get(t, key, str, where)
    status = c.get(t, "status", str, where)
    if status not in STATUSES:
        raise c.fail(f"{where}.status is {status!r}, not one of {', '.join(STATUSES)}")
    for key in ("start", "end"):
        c.get(t, key, (int, float), where)
    c.get(t, "attempt", int, where, 1)
    for i, a in enumerate(c.get(t, "addresses", list, where, [])):
        c.expect(a, dict, f"{where}.addresses[{i}]")
    accel = t.get("accel")
    if accel is not None:
        c.expect(accel, str, f"{where}.accel")
    for i, m in enumerate(c.get(t, "metrics", list, where, [])):
        at = f"{where}.metrics[{i}]"
        c.expect(m, dict, at)
        c.get(m, "name", str, at)
        c.get(m, "value", (int, float), at)
        c.get(m, "unit", str, at, "")
        if c.get(m, "better", str, at, "higher") not in BETTER:
            raise c.fail(f"{at}.better is {m['better']!r}, not 'higher' or 'lower'")
    return TestResult.from_json(t)


# --- upgrades: one function per step, vN -> vN+1 -------------------------------

_AVOCADO_STATUS = {"CANCEL": SKIP, "WARN": PASS}


def _v1_to_v2(d: Dict[str, Any]) -> Dict[str, Any]:
    """avocado's layout: no job object, no hostname/queue/addresses, CANCEL/WARN statuses."""
    tests = []
    for i, t in enumerate(d.get("tests", []), 1):
        status = _AVOCADO_STATUS.get(t.get("status", ERROR), t.get("status", ERROR))
        start = float(t.get("start") or 0.0)
        end = float(t.get("end") or start + float(t.get("time") or 0.0))
        tests.append({
            "id": f"localhost/default/{t.get('id', i)}",
            "name": t["name"],
            "shortname": t["name"],
            "status": status,
            "fail_reason": t.get("fail_reason"),
            "fail_class": t.get("fail_class"),
            "hostname": "localhost",
            "queue": "default",
            "start": start,
            "end": end,
            "logdir": t.get("logdir", ""),
            "addresses": [],
            "attempt": 1,
        })
    starts = [t["start"] for t in tests]
    job = {"job_id": d.get("job_id", ""), "start": min(starts) if starts else 0.0}
    return {"schema_version": 2, "job": job, "tests": tests, "superseded": [],
            "planned": len(tests)}


def _v2_to_v3(d: Dict[str, Any]) -> Dict[str, Any]:
    """v3 added ``job.tags``, ``job.hosts`` and each result's ``accel`` and ``metrics``: a v2 job
    had no tags, recorded no host facts, and its results no accelerator and no metrics."""
    d = dict(d, schema_version=3)
    if isinstance(d.get("job"), dict):
        d["job"] = {"tags": {}, "hosts": {}, **d["job"]}
    for key in ("tests", "superseded"):
        if isinstance(d.get(key), list):
            d[key] = [{"accel": None, "metrics": [], **t} if isinstance(t, dict) else t
                      for t in d[key]]
    return d


_UPGRADES: Dict[int, Callable[[Dict[str, Any]], Dict[str, Any]]] = {1: _v1_to_v2, 2: _v2_to_v3}


def upgrade(data: Dict[str, Any]) -> Dict[str, Any]:
    """Bring any known results.json version up to ``SCHEMA_VERSION``."""
    version = int(data.get("schema_version", 1))
    if version > SCHEMA_VERSION:
        raise ValueError(
            f"results.json schema_version {version} is newer than this kvmtest "
            f"understands ({SCHEMA_VERSION}); upgrade kvmtest"
        )
    while version < SCHEMA_VERSION:
        data = _UPGRADES[version](data)
        version = int(data["schema_version"])
    return data


def load_results(path: Union[str, Path]) -> ResultsFile:
    """Read a results directory (or its results.json), upgrading old versions.

    Results in the journal next to it (results.jsonl: what a running or killed
    runner recorded since its last snapshot) are merged in, so the view is
    complete up to the last finished test.
    """
    p = Path(path)
    if p.is_dir() or (p.suffix != ".json" and not p.exists()):
        # a directory, or one that does not exist yet: its results.json (not found), never
        # the path itself (a reader polling a run's directory would race its creation)
        p = p / RESULTS_JSON
    journal = read_journal(p.parent / JOURNAL)  # first: a snapshot taken meanwhile holds it all
    data = ResultsFile.from_json(load_json(p), p)
    merge_journal(data, journal)
    return data


def read_journal(path: Path) -> List[TestResult]:
    """The results of a journal file, in order; none when it does not exist.

    A last line without its newline was being written when the runner died: it is
    ignored. Any other bad line is a BadFileError naming the file and the line.
    """
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except FileNotFoundError:
        return []
    except UnicodeDecodeError as exc:
        raise BadFileError(path, f"not UTF-8 text ({exc.reason})") from None
    c = Checker(path)
    out = []
    for n, line in enumerate(lines[:-1], 1):  # lines[-1]: "" or an unfinished line
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except ValueError as exc:
            raise c.fail(f"line {n}: not valid JSON: {exc}") from None
        out.append(_result(c, doc, f"line {n}"))
    return out


def merge_journal(data: ResultsFile, journal: List[TestResult]) -> None:
    """Add journal results that ``data`` lacks: a later attempt replaces (and supersedes) the
    one ``data`` has; one ``data`` already holds (same id and attempt) changes nothing."""
    at = {r.id: i for i, r in enumerate(data.tests)}
    for r in journal:
        i = at.get(r.id)
        if i is None:
            at[r.id] = len(data.tests)
            data.tests.append(r)
        elif r.attempt > data.tests[i].attempt:
            data.superseded.append(data.tests[i])
            data.tests[i] = r
