"""`kvmtest compare BASE DEV` on results directories made by real (host-only) jobs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kvmtest.exitcodes import BAD_INPUT, OK, TESTS_FAILED
from kvmtest.run import RunOptions, new_job, run_job
from tests.clirun import run_cli
from tests.run.helpers import cmd, ptest, queue

ROOT = Path(__file__).resolve().parents[2]


def real_job(results: Path, tests, host: str = "localhost") -> Path:
    run_job([queue("q1", *tests, host=host)], results, new_job("nightly", ["test"]),
            progress=lambda ev: None,
            options=RunOptions(handle_signals=False, print_summary=False))
    return results


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    """base: steady, breaks, fixed (fails), gone; dev: steady, breaks (fails), fixed, added."""
    d = tmp_path_factory.mktemp("compare")
    base = real_job(d / "base", [cmd("t.steady", "true"), cmd("t.breaks", "true"),
                                 cmd("t.fixed", "false"), cmd("t.gone", "true")])
    dev = real_job(d / "dev", [cmd("t.steady", "true"), cmd("t.breaks", "false"),
                               cmd("t.fixed", "true"), cmd("t.added", "true")])
    return base, dev


def kvmtest(*args: str, via: str = "run.py") -> subprocess.CompletedProcess:
    """``./run.py compare ARGS`` in this process (tests/clirun.py: its exit code and output),
    or ``python -m kvmtest.compare ARGS`` as a real process (that entry point works too)."""
    if via == "run.py":
        return run_cli("compare", *args)
    env = dict(os.environ, PYTHONPATH=str(ROOT))  # this checkout's kvmtest
    return subprocess.run([sys.executable, "-m", "kvmtest.compare", *args], capture_output=True,
                          text=True, timeout=60, env=env)


def test_compare_finds_the_known_differences_and_exits_1(jobs):
    base, dev = jobs
    res = kvmtest(str(base), str(dev), "--format", "json")
    assert res.returncode == TESTS_FAILED, res.stderr
    doc = json.loads(res.stdout)
    got = {t["shortname"]: t["verdict"] for t in doc["tests"]}
    assert got == {"steady": "unchanged", "breaks": "regression", "fixed": "fix",
                   "gone": "removed", "added": "new"}
    breaks = next(t for t in doc["tests"] if t["shortname"] == "breaks")
    assert "host_cmd exited 1" in breaks["dev"]["reason"]
    assert (dev / breaks["dev"]["last_logdir"] / "debug.log").is_file()
    assert doc["regressed"] is True


def test_compare_table_groups_by_verdict_regressions_first(jobs):
    base, dev = jobs
    res = kvmtest(str(base), str(dev), via="-m")
    assert res.returncode == TESTS_FAILED, res.stderr
    out = res.stdout
    order = [out.index(f"\n{v} (1)") for v in ("regression", "new", "removed", "fix")]
    assert order == sorted(order)
    assert "unchanged" not in out.split("\n\n")[1]  # not listed, only counted at the end
    assert "1 regression, 1 new, 1 removed, 1 fix, 1 unchanged; REGRESSED" in out
    assert "steady" not in out
    assert "steady" in kvmtest(str(base), str(dev), "--all").stdout


def test_compare_exits_0_without_regression(jobs):
    base, dev = jobs
    res = kvmtest(str(dev), str(dev))
    assert res.returncode == OK, res.stdout + res.stderr
    assert "no significant regression" in res.stdout
    # dev -> base: "breaks" is fixed, "fixed" regressed again
    assert kvmtest(str(dev), str(base)).returncode == TESTS_FAILED


def test_several_runs_per_side(jobs, tmp_path):
    base, dev = jobs
    base2 = real_job(tmp_path / "base2", [ptest("t.breaks", host="other", type="host_cmd",
                                                host_cmd="false")], host="other")
    res = kvmtest(str(base), str(dev), "--base", str(base2), "--format", "json")
    doc = json.loads(res.stdout)
    breaks = next(t for t in doc["tests"] if t["shortname"] == "breaks")
    assert breaks["verdict"] == "flaky" and breaks["base"]["failed"] == 1  # mixed baseline
    assert doc["base_jobs"][1] != doc["base_jobs"][0]


def test_bad_input_exits_2(jobs, tmp_path):
    base, _ = jobs
    res = kvmtest(str(base), str(tmp_path / "nope"))
    assert res.returncode == BAD_INPUT and "nope: not a results directory" in res.stderr
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "results.json").write_text("{not json")
    res = kvmtest(str(tmp_path / "broken"), str(base))
    assert res.returncode == BAD_INPUT and "cannot read" in res.stderr
    assert "Traceback" not in res.stderr
    assert kvmtest(str(base), str(base), "--alpha", "2").returncode == BAD_INPUT
    assert kvmtest(str(base)).returncode == BAD_INPUT  # argparse: a usage error
