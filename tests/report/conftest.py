"""A real job (sleep and host_cmd tests, no guests) with every status, for the report tests."""

from __future__ import annotations

import pytest

from kvmtest.run import RunOptions, new_job, run_job
from tests.run.helpers import cmd, ptest, queue, sleep

#: A name and an output that would run script in the page if the report did not escape them.
EVIL_NAME = "smoke.x<script>alert(1)</script>"
EVIL_OUTPUT = "<script>alert(2)</script>&amp;"


def every_status_queues():
    """q1: PASS, FAIL (its output holds markup), SKIP (dep on the FAIL), a FAIL whose name holds
    markup; q2: ERROR (negative sleep), PASS, INTERRUPTED (timeout)."""
    return [
        queue("q1", sleep("smoke.sleep0", 0.2),
              cmd("smoke.false", f"sh -c 'echo \"{EVIL_OUTPUT}\"; exit 3'"),
              ptest("smoke.after", "q1", dep=["false"], type="host_cmd", host_cmd="true"),
              cmd(EVIL_NAME, "false")),
        queue("q2", sleep("smoke.nosuch", -1, "q2"), sleep("smoke.nap", 0.3, "q2"),
              sleep("smoke.hang", 60, "q2", timeout="0.5")),
    ]


OPTIONS = RunOptions(grace=5, abandon_after=5, handle_signals=False, print_summary=False)


@pytest.fixture(scope="session")
def report_job(tmp_path_factory):
    """(results dir, JobSummary) of one real job; report.html was written at its end."""
    results = tmp_path_factory.mktemp("report") / "results"
    summary = run_job(every_status_queues(), results, new_job("smoke", ["test"]),
                      progress=lambda ev: None, options=OPTIONS)
    return results, summary


@pytest.fixture(scope="session")
def two_jobs(tmp_path_factory):
    """base: a PASS, b FAIL, c PASS, gone PASS, slow 0.1 s; dev: a FAIL (regression), b PASS
    (fix), c PASS, added PASS (new), slow 1.6 s (slower). Tagged role=base / role=dev."""
    root = tmp_path_factory.mktemp("cmp")

    def job(name, a, b, last, slow):
        run_job([queue("q1", cmd("s.a", a), cmd("s.b", b), cmd("s.c", "true"), cmd(last, "true"),
                       sleep("s.slow", slow))],
                root / name, new_job(name, ["test"]), progress=lambda ev: None, options=OPTIONS,
                tags={"role": name})
        return root / name

    return job("base", "true", "false", "s.gone", 0.1), job("dev", "false", "true", "s.added", 1.6)
