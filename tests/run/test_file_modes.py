"""Files the runner writes get the mode the umask asks for (not mkstemp's private 0600).

A CI that publishes a results directory as another user must be able to read it.
"""

from __future__ import annotations

import stat
import subprocess

import pytest

from kvmtest.fsutil import atomic_write, current_umask
from tests.run.helpers import cmd, queue, runner_cmd, runner_env, write_plan


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_results_plan_env_and_kcidb_follow_the_umask(tmp_path, umask):
    plan = write_plan(tmp_path / "in.json", [queue("q1", cmd("a.one", "true"))])
    r, kcidb = tmp_path / "r", tmp_path / "kcidb.json"
    res = subprocess.run(runner_cmd("--plan", str(plan), "--results", str(r), "--kcidb", str(kcidb)),
                         env=runner_env(), capture_output=True, text=True, timeout=120, umask=umask)
    assert res.returncode == 0, res.stderr
    files = [r / "results.json", r / "results.jsonl", r / "results.xml", r / "plan.json", kcidb,
             r / "report.html",
             *sorted((r / "env").glob("*.json"))]
    assert len(files) == 7  # the queue's env file is there too
    want = 0o666 & ~umask
    assert {str(f): oct(stat.S_IMODE(f.stat().st_mode)) for f in files} == \
        {str(f): oct(want) for f in files}


def test_atomic_write_reads_the_umask_without_changing_it(tmp_path):
    import os

    old = os.umask(0o002)
    try:
        assert current_umask() == 0o002
        atomic_write(tmp_path / "f", "x")
        assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o664
        assert current_umask() == 0o002
    finally:
        os.umask(old)
