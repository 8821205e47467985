"""The results directory on a full filesystem (a small tmpfs): one error, a summary, exit 3.

A real runner process; a host_cmd test fills the disk mid-job while another queue
runs. The job must stop with one clear line (no traceback), record the running
tests as INTERRUPTED where it still can, leave every later test for --resume,
print the summary and exit INFRA; --resume after freeing space completes it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from kvmtest.exitcodes import INFRA
from kvmtest.results import load_results
from tests.run.helpers import cmd, queue, run_runner, sleep, write_plan

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


@pytest.fixture
def small_fs(tmp_path):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {res.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=True)


def fill(path: Path) -> None:
    subprocess.run(["dd", "if=/dev/zero", f"of={path}", "bs=4k"], capture_output=True)


def test_disk_full_mid_job_stops_cleanly_and_resume_completes(tmp_path, small_fs):
    flag, filler = tmp_path / "fill-now", small_fs / "filler"
    flag.touch()
    fill_cmd = f"sh -c 'if [ -e {flag} ]; then dd if=/dev/zero of={filler} bs=4k; fi; true'"
    plan = write_plan(tmp_path / "in.json", [
        queue("q1", cmd("a.one", "true"), cmd("a.fill", fill_cmd), cmd("a.three", "true"),
              cmd("a.four", "true")),
        queue("q2", *[sleep(f"b.s{i}", 0.3, "q2") for i in range(5)]),
    ])
    r = small_fs / "r"
    res = run_runner("--plan", str(plan), "--results", str(r))
    assert res.returncode == INFRA, res.stdout + res.stderr
    assert "Traceback" not in res.stderr and "Logging error" not in res.stderr
    errors = res.stderr.strip().splitlines()
    assert len(errors) == 1 and "No space left on device" in errors[0] and "--resume" in errors[0]
    assert "TOTAL" in res.stdout and "finish with --resume" in res.stdout  # the summary
    assert "[localhost/q1] INTERRUPTED 2-fill" in res.stdout  # not a final ERROR
    assert "START 3-three" not in res.stdout  # nothing starts after the fault
    on_disk = load_results(r)  # results.json and its journal: what was written before the fault
    assert [(t.shortname, t.status) for t in on_disk.tests][:1] == [("one", "PASS")]
    assert on_disk.planned - len(on_disk.final_ids()) >= 8

    flag.unlink()
    filler.unlink()
    again = run_runner("--results", str(r), "--resume")
    assert again.returncode == 0, again.stdout + again.stderr
    data = json.loads((r / "results.json").read_text())
    assert data["pending"] == 0
    assert sorted(t["shortname"] for t in data["tests"]) == \
        ["fill", "four", "one", "s0", "s1", "s2", "s3", "s4", "three"]
    assert {t["status"] for t in data["tests"]} == {"PASS"}


def test_full_before_the_job_starts_is_one_error_and_exit_3(tmp_path, small_fs):
    fill(small_fs / "filler")
    plan = write_plan(tmp_path / "in.json", [queue("q1", cmd("a.one", "true"))])
    res = run_runner("--plan", str(plan), "--results", str(small_fs / "r"))
    assert res.returncode == INFRA, res.stdout + res.stderr
    assert res.stderr.strip().splitlines() == [
        f"kvmtest.run: error: cannot write {small_fs / 'r' / 'plan.json'}:"
        " [Errno 28] No space left on device"]
    (small_fs / "filler").unlink()
    again = run_runner("--plan", str(plan), "--results", str(small_fs / "r"))
    assert again.returncode == 0, again.stderr
