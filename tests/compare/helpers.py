"""Hand-built results files for comparison tests (no runner: every verdict on purpose)."""

from __future__ import annotations

import itertools
from typing import Optional

from kvmtest.results.records import JobInfo, TestResult
from kvmtest.results.store import ResultsFile

_clock = itertools.count(1000)


def res(shortname: str, status: str = "PASS", fail_class: Optional[str] = None,
        reason: Optional[str] = None, seconds: float = 1.0, host: str = "h1",
        queue: str = "q1") -> TestResult:
    start = float(next(_clock))
    if status != "PASS" and reason is None:
        reason = f"{shortname} went wrong"
    if status == "FAIL" and fail_class is None:
        fail_class = "TestFail"
    return TestResult(id=f"{host}/{queue}/1-{shortname}", name=f"set.{shortname}",
                      shortname=shortname, status=status, hostname=host, queue=queue,
                      start=start, end=start + seconds, fail_reason=reason,
                      fail_class=fail_class, logdir=f"tests/{host}-{queue}/1-{shortname}")


def job(job_id: str, *results: TestResult) -> ResultsFile:
    return ResultsFile(job=JobInfo(job_id=job_id, set="set", start=0.0), tests=list(results),
                       planned=len(results))


def runs(shortname: str, n: int, failing: int, prefix: str = "j") -> list:
    """n one-test jobs of ``shortname`` of which the first ``failing`` FAIL."""
    return [job(f"{prefix}{i}", res(shortname, "FAIL" if i < failing else "PASS"))
            for i in range(n)]
