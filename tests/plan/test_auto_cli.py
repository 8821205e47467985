"""``assign = auto`` through the real CLI: dry run, --explain, --durations, and a real job
planned from guesses, run, and planned again from its own results (issue 14). The CLI's
``main`` runs in this process (tests/clirun.py)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Dict, List

import pytest

import kvmtest
from kvmtest.history import HistoryStore
from kvmtest.results import load_results
from kvmtest.results.durations import ResultsDurations
from tests.clirun import run_cli

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = str(ROOT / "samples" / "auto" / "kvm_hosts.cfg")


def kvmtest_cli(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    """``./run.py ARGS`` in ``tmp``, in this process (tests/clirun.py: exit code and output)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KVMTEST_HISTORY", str(tmp / "history.db"))  # (each job indexes itself)
        return run_cli(*args, cwd=tmp)


def test_dry_run_lists_each_queue_and_the_makespan_against_the_lower_bound(tmp_path):
    p = kvmtest_cli(tmp_path, "-c", SAMPLE, "--set", "lab", "--dry-run", "--all-hosts")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "10 test(s) on all hosts" in out
    assert "automatic assignment: 10 test(s) in 9 bundle(s) on 3 queue(s)" in out
    assert "estimates: 0 from history, 10 guessed (0 same type, 0 global median, 10 timeout)" in out
    rows = re.findall(r"^(host[AB]/\d)\s+(\d+)\s+(.+)$", out, re.M)
    assert [r[0] for r in rows] == ["hostA/1", "hostA/2", "hostB/1"]
    assert sum(int(r[1]) for r in rows) == 10
    assert re.search(r"estimated makespan 4 min 0 s, lower bound 3 min 20 s: ratio 1\.200", out)
    # long may not run on hostB (the set's 'hostB: no long'): never placed there
    table = dict(re.findall(r"^(\w+)\s+(host[AB])\s", out, re.M))
    assert table["long"] == "hostA"
    # json: stdout stays one object per test; the summary goes to stderr
    p = kvmtest_cli(tmp_path, "-c", SAMPLE, "--set", "lab", "--dry-run", "--all-hosts",
                    "--format", "json")
    assert p.returncode == 0, p.stderr
    assert len([json.loads(line) for line in p.stdout.splitlines()]) == 10
    assert "estimated makespan" in p.stderr


def test_explain_says_why_a_test_went_where_it_went(tmp_path):
    p = kvmtest_cli(tmp_path, "-c", SAMPLE, "--set", "lab", "--explain", r"lab\..*\.long$")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert re.search(r"SELECTED lab\.hostA\.q\d\.long\n    runs on hostA/\d", out)
    assert "assigned automatically: eligible 2 of 3 queues: hostA/1 hostA/2" in out
    assert "estimate 1 min 0 s (a guess: its timeout; never measured)" in out
    assert re.search(r"chose hostA/\d: earliest finish", out)
    assert re.search(r"ELSEWHERE lab\.hostA\.q\d\.long\n    automatic assignment runs long on"
                     r" hostA/\d instead", out)
    assert re.search(r"REMOVED  lab\.hostB\.q1\.long\n    by .*kvm_hosts.cfg:\d+: no long", out)
    p = kvmtest_cli(tmp_path, "-c", SAMPLE, "--set", "lab", "--explain", r"lab\..*\.check$")
    assert re.search(r"bundled by dep with prepare: 2 min 0 s in all", p.stdout)


def test_durations_mistakes(tmp_path, demo_files):
    p = kvmtest_cli(tmp_path, "-c", SAMPLE, "--set", "lab", "--dry-run", "--durations",
                    str(tmp_path / "nope"))
    assert p.returncode == 2
    assert "--durations" in p.stderr and "no such file or directory" in p.stderr
    p = kvmtest_cli(tmp_path, "--resume", str(tmp_path), "--durations", str(tmp_path))
    assert p.returncode == 2 and "--durations" in p.stderr
    demo = str(ROOT / "samples" / "demo" / "kvm_hosts.cfg")
    results = tmp_path / "r"
    results.mkdir()
    (results / "results.json").write_text(json.dumps(
        {"schema_version": 2, "job": {"job_id": "x", "start": 0}, "tests": []}))
    p = kvmtest_cli(tmp_path, "-c", demo, "--set", "smoke", "--dry-run", "--durations", str(results))
    assert p.returncode == 0, p.stderr
    assert "--durations: this selection has no 'assign = auto' test" in p.stderr


def queue_times(results: Path) -> Dict[str, float]:
    """Measured: each queue's wall time, first start to last end."""
    spans: Dict[str, List[float]] = {}
    for r in load_results(results):
        assert r.status == "PASS", (r.id, r.fail_reason)
        s = spans.setdefault(f"{r.hostname}/{r.queue}", [r.start, r.end])
        s[0], s[1] = min(s[0], r.start), max(s[1], r.end)
    return {q: end - start for q, (start, end) in spans.items()}


def test_a_job_planned_again_from_its_own_results_gets_closer_to_the_lower_bound(tmp_path):
    """Run the sample's 'here' set with guesses (every estimate its timeout: a split by
    count); the job indexes itself in the history. Plan and run it again, with estimates
    from the history (and the same plan from --durations DIR): the second plan is closer
    to the lower bound, estimated and measured."""
    first = tmp_path / "first"
    p = kvmtest_cli(tmp_path, "-c", SAMPLE, "--set", "here", "--results", str(first))
    assert p.returncode == 0, p.stdout + p.stderr
    measured = ResultsDurations([first])
    with HistoryStore(tmp_path / "history.db") as store:
        plan2 = kvmtest.load([SAMPLE], test_set="here", durations=store)
    assert plan2.auto.summary()[1].startswith("estimates: 10 from history, 0 guessed")
    same = kvmtest.load([SAMPLE], test_set="here", durations=measured)
    placed = {t.shortname: f"{t.hostname}/{t.queue}" for t in plan2.tests}
    assert {t.shortname: f"{t.hostname}/{t.queue}" for t in same.tests} == placed
    # the lower bound of the real durations, and the second plan's estimate against it
    lb, est2 = plan2.auto.result.lower_bound, plan2.auto.result.makespan
    real = {s: d[-1] for s, d in measured.durations(list(placed)).items()}
    first_plan: Dict[str, float] = {}
    for r in load_results(first):
        key = f"{r.hostname}/{r.queue}"
        first_plan[key] = first_plan.get(key, 0.0) + real[r.shortname]
    est1 = max(first_plan.values())  # the first plan, priced with what the tests really took
    assert est2 / lb < est1 / lb
    assert est2 / lb <= 1.05
    p = kvmtest_cli(tmp_path, "-c", SAMPLE, "--set", "here", "--dry-run")
    assert "estimates: 10 from history, 0 guessed" in p.stdout, p.stdout + p.stderr
    second = tmp_path / "second"
    p = kvmtest_cli(tmp_path, "-c", SAMPLE, "--set", "here", "--results", str(second))
    assert p.returncode == 0, p.stdout + p.stderr
    wall1, wall2 = max(queue_times(first).values()), max(queue_times(second).values())
    assert wall2 / lb < wall1 / lb, (wall1, wall2, lb)
    # the second job ran the second plan
    assert {r.shortname: f"{r.hostname}/{r.queue}" for r in load_results(second)} == placed
    print(f"lower bound {lb:.2f} s; estimated {est1:.2f} -> {est2:.2f} s;"
          f" measured {wall1:.2f} -> {wall2:.2f} s")


def test_no_history_means_guesses_and_a_bad_history_file_is_a_warning(tmp_path):
    (tmp_path / "history.db").write_text("not a database")
    p = kvmtest_cli(tmp_path, "-c", SAMPLE, "--set", "here", "--dry-run")
    assert p.returncode == 0, p.stderr
    assert "every duration estimate is a guess" in p.stderr
    assert "estimates: 0 from history, 10 guessed" in p.stdout
    p = kvmtest_cli(tmp_path, "-c", SAMPLE, "--set", "here", "--dry-run", "--no-history")
    assert p.returncode == 0 and "every duration estimate" not in p.stderr
    assert not (tmp_path / "other.db").exists()
    p = kvmtest_cli(tmp_path, "-c", SAMPLE, "--set", "here", "--dry-run", "--history",
                    str(tmp_path / "other.db"))
    assert p.returncode == 0, p.stderr
    assert not (tmp_path / "other.db").exists()  # a listing creates no history file
