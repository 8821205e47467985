"""One real job (sleep and host_cmd test types, no guests) with every status, shared by module."""

from __future__ import annotations

import pytest

from kvmtest.run import RunOptions, new_job, run_job
from tests.run.helpers import cmd, ptest, queue, sleep


@pytest.fixture(scope="session")
def every_status_job(tmp_path_factory):
    """q1: PASS, FAIL, SKIP (dep on the FAIL); q2: ERROR (negative sleep), INTERRUPTED (timeout)."""
    results = tmp_path_factory.mktemp("job") / "results"
    kcidb = results.parent / "kcidb.json"
    queues = [
        queue("q1", sleep("smoke.sleep0", 0), cmd("smoke.false", "false"),
              ptest("smoke.after", "q1", dep=["false"], type="host_cmd", host_cmd="true")),
        # an ERROR the test itself raises (an unknown type is refused before the run now)
        queue("q2", sleep("smoke.nosuch", -1, "q2"),
              sleep("smoke.hang", 60, "q2", timeout="0.5")),
    ]
    summary = run_job(queues, results, new_job("smoke", ["test"]), kcidb=kcidb,
                      progress=lambda ev: None,
                      options=RunOptions(grace=5, abandon_after=5, handle_signals=False,
                                         print_summary=False))
    return summary, kcidb
