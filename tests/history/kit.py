"""Results directories for history tests: real files written by the results writers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from kvmtest.results.records import JobInfo, Metric, TestResult
from kvmtest.results.store import ResultsFile
from kvmtest.results.writers import JsonWriter

# (shortname, status[, fail_class[, seconds]])
Spec = Tuple


def write_job(root: Path, job_id: str, start: float, specs: Sequence[Spec],
              tags: Optional[Dict[str, str]] = None, test_set: str = "nightly",
              superseded: Sequence[Spec] = (), types: Optional[Dict[str, str]] = None,
              metrics: Optional[Dict[str, List[Metric]]] = None) -> Path:
    """A results directory holding ``specs`` as the job's results (one per test, in order);
    ``metrics`` replaces the default metrics of the tests it names."""
    d = root / job_id
    d.mkdir(parents=True)
    job = JobInfo(job_id, set=test_set, hostname="h1", cmdline=["run.py"], start=start,
                  end=start + 100, tags=dict(tags or {}),
                  hosts={"h1": {"kernel": "6.1.0-test", "qemu": "QEMU 7.2", "cpu_model": "EPYC"}},
                  runs=[{"start": start, "end": start + 100, "ended": "finished"}])
    tests = [_result(start, i, s) for i, s in enumerate(specs)]
    for r in tests:
        if metrics and r.shortname in metrics:
            r.metrics = list(metrics[r.shortname])
    old = [_result(start, i, s, attempt=1) for i, s in enumerate(superseded)]
    for r in tests:
        if any(o.id == r.id for o in old):  # re-run by a --resume: after the first attempt
            r.attempt = 2
            r.start, r.end = r.start + 5, r.end + 5
    JsonWriter(d).close(ResultsFile(job, tests, old, planned=len(tests)))
    if types:
        plan = {"queues": [{"hostname": "h1", "queue": "q", "env": "e", "tests": [
            {"name": f"set.{s[0]}", "shortname": s[0], "params": {"type": types.get(s[0], "")},
             "hostname": "h1", "queue": "q", "env": "e"} for s in specs]}]}
        (d / "plan.json").write_text(json.dumps(plan))
    return d


def _result(start: float, i: int, spec: Spec, attempt: int = 1) -> TestResult:
    short, status = spec[0], spec[1]
    fail_class = spec[2] if len(spec) > 2 else None
    seconds = spec[3] if len(spec) > 3 else 1.0 + i
    t0 = start + 10 * i
    r = TestResult(id=f"h1/q/{i + 1}-{short}", name=f"set.{short}", shortname=short, status=status,
                   hostname="h1", queue="q", start=t0, end=t0 + seconds,
                   fail_class=fail_class, fail_reason=None if status == "PASS" else f"{short} broke",
                   logdir=f"tests/h1-q/{i + 1}-{short}", attempt=attempt,
                   accel="tcg" if short.startswith("boot") else None)
    if short.startswith("bench"):
        r.metrics = [Metric("bw", 100.0 + i, "MB/s", "higher"), Metric("lat", 2.5, "ms", "lower")]
    return r
