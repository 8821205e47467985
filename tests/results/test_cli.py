"""Reading a results directory: `run.py results DIR` / `python -m kvmtest.results DIR` list what did
not pass and why, from any directory; the library's JobSummary is easy to use from a control file."""

import subprocess
import sys
from pathlib import Path

import pytest

from kvmtest.exitcodes import TESTS_FAILED
from kvmtest.results import PASS, TestResult

ROOT = Path(__file__).resolve().parents[2]


def test_summary_results_iterate_over_test_results(every_status_job):
    summary, _ = every_status_job
    results = list(summary.results)
    assert results and all(isinstance(r, TestResult) for r in results)
    assert len(summary.results) == len(results) == 5
    assert {r.shortname: r.status for r in summary.results.not_passed()} == {
        "false": "FAIL", "after": "SKIP", "nosuch": "ERROR",
        "hang": "INTERRUPTED"}
    assert all(r.reason_line and "\n" not in r.reason_line
               for r in summary.results if r.status != PASS)


def test_run_job_prints_nothing_itself(tmp_path, capfd):
    """A control file decides what to show: run_job's default leaves the table to the caller."""
    from kvmtest.run import new_job, run_job
    from tests.run.helpers import cmd, queue

    summary = run_job([queue("q1", cmd("a.true", "true"))], tmp_path / "r", new_job("s", ["t"]),
                      progress=lambda ev: None)
    out = capfd.readouterr().out
    assert summary.exit_code == 0 and "TOTAL" in summary.text
    assert out == ""


def results_cli(*args, cwd, via="run.py"):
    head = ([sys.executable, str(ROOT / "run.py"), "results"] if via == "run.py"
            else [sys.executable, "-m", "kvmtest.results"])
    env = None
    if via == "-m":  # the installed kvmtest (make venv), not this checkout via cwd
        env = {"PATH": "/usr/bin:/bin"}
    return subprocess.run([*head, *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                          env=env)


def test_results_cli_lists_what_did_not_pass_with_the_reason(every_status_job, tmp_path):
    summary, _ = every_status_job
    proc = results_cli(str(summary.results_dir), cwd=tmp_path)
    assert proc.returncode == TESTS_FAILED, proc.stderr
    lines = proc.stdout.splitlines()
    by_status = {ln.split()[0]: ln for ln in lines if ln.split() and ln.split()[0] in
                 ("FAIL", "ERROR", "SKIP", "INTERRUPTED")}
    assert set(by_status) == {"FAIL", "ERROR", "SKIP", "INTERRUPTED"}
    assert "q1/2-false: " in by_status["FAIL"] and "exited 1" in by_status["FAIL"]
    assert "is negative" in by_status["ERROR"]
    assert "timed out after 0.5 s" in by_status["INTERRUPTED"]
    assert "dependency" in by_status["SKIP"]
    logs = [ln.split("log: ", 1)[1] for ln in lines if "log: " in ln]
    assert len(logs) == 4 and all(Path(log).is_file() for log in logs)
    assert lines[-1] == f"results: {summary.results_dir}" and "TOTAL" in proc.stdout


@pytest.mark.parametrize("via", ["run.py", "-m"])
@pytest.mark.parametrize("shadow", ["kvmtest", "kvmtest/results", "results"])
def test_results_cli_works_from_any_directory(every_status_job, tmp_path, via, shadow):
    """A cwd holding a kvmtest/ checkout folder (with its results/) or a results/ folder: python -m
    puts the cwd first on sys.path, where such a folder is a namespace package called kvmtest."""
    summary, _ = every_status_job
    (tmp_path / shadow).mkdir(parents=True)
    proc = results_cli(str(summary.results_dir), cwd=tmp_path, via=via)
    assert proc.returncode == TESTS_FAILED, proc.stderr
    assert "TOTAL" in proc.stdout and "Traceback" not in proc.stderr
