"""Results: records, results.json (versioned, atomic), JUnit XML, KCIDB, summary table."""

from kvmtest.results.records import (
    ERROR,
    FAIL,
    INTERRUPTED,
    PASS,
    SKIP,
    STATUSES,
    JobInfo,
    TestResult,
)
from kvmtest.results.store import ResultsFile, load_results

__all__ = [
    "ERROR", "FAIL", "INTERRUPTED", "PASS", "SKIP", "STATUSES",
    "JobInfo", "ResultsFile", "TestResult", "load_results",
]
