"""--resume on a results directory whose plan.json or results.json is corrupt or foreign.

Each case is a real job's directory with one file damaged, resumed by the real
runner (``python -m kvmtest.run``'s main in this process, tests/clirun.py; the CLI's own
report of it is a real process): one error line naming the file and what is wrong, exit 2,
nothing run, nothing rewritten; never a traceback, never a silently empty plan.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kvmtest.exitcodes import BAD_INPUT
from kvmtest.run.__main__ import main as runner_main
from tests.clirun import run_cli
from tests.run.helpers import cmd, queue, run_runner, write_plan


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A job of three tests whose last one never ran (its results entry is removed)."""
    base = tmp_path_factory.mktemp("job")
    plan = write_plan(base / "in.json", [queue("q1", cmd("a.one", "true"), cmd("a.two", "true"),
                                                cmd("a.three", "true"))])
    res = run_runner("--plan", str(plan), "--results", str(base / "r"))
    assert res.returncode == 0, res.stderr
    data = json.loads((base / "r" / "results.json").read_text())
    data["tests"] = data["tests"][:2]
    (base / "r" / "results.json").write_text(json.dumps(data))
    shutil.rmtree(base / "r" / "tests" / "localhost-q1" / "3-three")
    return base / "r"


def _edit(name: str, change):
    def apply(d: Path) -> None:
        path = d / name
        doc = change(json.loads(path.read_text()))
        path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return apply


def _drop(*keys):
    def change(doc):
        target = doc
        for k in keys[:-1]:
            target = target[k]
        del target[keys[-1]]
        return doc
    return change


CASES = {
    "plan-null": (_edit("plan.json", lambda d: "null"), "plan.json", "top level is null"),
    "plan-empty-object": (_edit("plan.json", lambda d: {}), "plan.json", "no 'queues'"),
    "plan-no-queues-left": (_edit("plan.json", lambda d: {**d, "queues": []}), "plan.json",
                            "lists no test"),
    "plan-test-without-params": (_edit("plan.json", _drop("queues", 0, "tests", 1, "params")),
                                 "plan.json", "queues[0].tests[1] (a.two) has no 'params'"),
    "plan-params-not-strings": (
        _edit("plan.json", lambda d: (d["queues"][0]["tests"][0]["params"].update(x=1), d)[1]),
        "plan.json", "params['x'] is an integer, expected a string"),
    "plan-truncated": (_edit("plan.json", lambda d: json.dumps(d)[:40]), "plan.json",
                       "not valid JSON"),
    "results-list": (_edit("results.json", lambda d: []), "results.json",
                     "top level is a list, expected an object"),
    "results-empty-object": (_edit("results.json", lambda d: {}), "results.json",
                             "neither a kvmtest nor an avocado results.json"),
    "results-without-job": (_edit("results.json", _drop("job")), "results.json", "has no 'job'"),
    "results-test-without-status": (_edit("results.json", _drop("tests", 0, "status")),
                                    "results.json", "tests[0] (localhost/q1/1-one) has no 'status'"),
    "results-bad-status": (
        _edit("results.json", lambda d: (d["tests"][1].update(status="GOOD"), d)[1]),
        "results.json", "tests[1] (localhost/q1/2-two).status is 'GOOD'"),
    "results-of-another-plan": (
        _edit("results.json", lambda d: (d["tests"][0].update(id="localhost/q9/1-x"), d)[1]),
        "results.json", "not list (first: localhost/q9/1-x)"),
    "results-not-utf8": (lambda d: (d / "results.json").write_bytes(b'{"job": "\xff"}'),
                         "results.json", "not UTF-8"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_corrupt_resume_input_is_one_clear_error(finished, tmp_path, case):
    damage, filename, what = CASES[case]
    r = tmp_path / "r"
    shutil.copytree(finished, r)
    damage(r)
    before = {p.name: p.read_bytes() for p in r.iterdir() if p.is_file()}
    res = run_cli("--results", r, "--resume", main=runner_main)
    assert res.returncode == BAD_INPUT, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert str(r / filename) in lines[0] and what in lines[0], lines[0]
    assert not (r / "tests" / "localhost-q1" / "3-three").exists()  # nothing ran
    after = {p.name: p.read_bytes() for p in r.iterdir() if p.is_file()}
    assert after == before


def test_the_cli_reports_a_corrupt_plan_the_same_way(finished, tmp_path):
    import subprocess
    import sys

    from tests.run.helpers import REPO, runner_env

    r = tmp_path / "r"
    shutil.copytree(finished, r)
    (r / "plan.json").write_text("{}")
    res = subprocess.run([sys.executable, str(REPO / "run.py"), "--resume", str(r)],
                         env=runner_env(), capture_output=True, text=True, timeout=60)
    assert res.returncode == BAD_INPUT
    assert res.stderr.strip() == f"error: {r / 'plan.json'}: no 'queues' list: not a kvmtest plan"


def test_an_intact_directory_still_resumes(finished, tmp_path):
    r = tmp_path / "r"
    shutil.copytree(finished, r)
    res = run_runner("--results", str(r), "--resume")
    assert res.returncode == 0, res.stderr
    data = json.loads((r / "results.json").read_text())
    assert data["pending"] == 0 and [t["shortname"] for t in data["tests"]] == ["one", "two", "three"]
