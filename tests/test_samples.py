"""The shipped samples work as the docs say: the control file and the demo plan."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clirun import run_cli

ROOT = Path(__file__).resolve().parents[1]


def test_demo_plan_gives_each_queue_its_own_range(demo_files):
    res = run_cli("-c", "samples/demo/kvm_hosts.cfg", "--set", "smoke", "--dry-run", "--format",
                  "json", cwd=ROOT)  # ./run.py, in this process (tests/clirun.py)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    tests = [json.loads(line) for line in out.splitlines()]
    by_queue = {}
    for t in tests:
        by_queue.setdefault(t["queue"], set()).update(a["mac"] for a in t["addresses"])
    assert set(by_queue) == {"1", "2"}
    assert not by_queue["1"] & by_queue["2"]
    ping = [t for t in tests if t["type"] == "ping"]
    assert ping and len(ping[0]["addresses"]) == 2


@pytest.mark.guest
def test_control_file_plans_and_runs(tmp_path, tiny_guest):
    """As documented: `python3 samples/control`, with the system python3 when it lacks the
    dependencies (the control file's bootstrap re-runs it with the checkout's .venv)."""
    from tests.test_cli_bootstrap import SYSTEM_PYTHON, _system_python_lacks_deps, clean_env

    python, env = sys.executable, None
    if _system_python_lacks_deps():
        python, env = SYSTEM_PYTHON, clean_env()
    proc = subprocess.run([python, str(ROOT / "samples" / "control")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results_line = [ln for ln in proc.stdout.splitlines() if ln.startswith("results: ")]
    results = json.loads((Path(results_line[-1].split(": ", 1)[1]) / "results.json").read_text())
    assert [t["status"] for t in results["tests"]] == ["PASS"] * 3
    # the job indexed itself into the suite's history (conftest), not the real user's
    from kvmtest.history import HistoryStore

    assert HistoryStore(os.environ["KVMTEST_HISTORY"]).job_ids(results["job"]["job_id"])
