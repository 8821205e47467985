"""`kvmtest compare` with the history: job ids, tag selections, flaky-on-baseline demotion.

Real jobs (docs/examples/compare.cfg, host-only tests) run through the CLI with --tag and
--history, as a user runs them; the comparison then reads them back from the index. The
CLI runs in this process (tests/clirun.py: ``./run.py``'s ``main``, its exit code and
output): what is tested is what the commands decide, not the process around them.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import List, Sequence

import pytest

from kvmtest.exitcodes import BAD_INPUT, OK, TESTS_FAILED
from tests.clirun import run_cli
from tests.history.kit import write_job

ROOT = Path(__file__).resolve().parents[2]
CFG = str(ROOT / "docs" / "examples" / "compare.cfg")
T0 = 1_800_000_000.0


def run_py(*args: str) -> subprocess.CompletedProcess:
    """``./run.py ARGS``, in this process, with no KVMTEST_HISTORY: every command here names its
    history."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("KVMTEST_HISTORY", raising=False)
        return run_cli(*args)


def job(history: Path, results: Path, test_set: str, kernel: str, *extra: str) -> str:
    res = run_py("-c", CFG, "--set", test_set, "--tag", f"kernel={kernel}", "--results",
                 str(results), "--history", str(history), *extra)
    assert res.returncode in (OK, TESTS_FAILED), res.stderr
    return json.loads((results / "results.json").read_text())["job_id"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """kernel 6.1: three baseline runs, `steady` failing in the second (flaky there);
    kernel 6.2: the dev run (feature breaks, legacy fixed, bench 20 % slower), and a second
    dev run where only `steady` ran, and failed."""
    d = tmp_path_factory.mktemp("lab")
    h = d / "history.db"
    ids = [job(h, d / "b1", "baseline", "6.1"),
           job(h, d / "b2", "baseline", "6.1", "--only", "steady", "-p", "host_cmd=false"),
           job(h, d / "b3", "baseline", "6.1"),
           job(h, d / "d1", "dev", "6.2"),
           job(h, d / "d2", "dev", "6.2", "--only", "steady", "-p", "host_cmd=false")]
    return d, h, ids


def compare_json(*args: str):
    res = run_py("compare", *args, "--format", "json")
    doc = json.loads(res.stdout) if res.stdout.strip() else None
    return res, doc


def verdicts(doc):
    return {t["shortname"]: t["verdict"] for t in doc["tests"]}


def test_tag_selections_pick_every_run_so_tagged(lab):
    d, h, ids = lab
    res, doc = compare_json("kernel=6.1", "kernel=6.2", "--history", str(h))
    assert res.returncode == TESTS_FAILED, res.stderr
    assert doc["base_jobs"] == ids[:3] and doc["dev_jobs"] == ids[3:]
    assert verdicts(doc) == {"feature": "regression", "legacy": "fix", "steady": "flaky",
                             "bench": "unchanged"}
    steady = next(t for t in doc["tests"] if t["shortname"] == "steady")
    assert (steady["base"]["passed"], steady["base"]["failed"]) == (2, 1)
    [bw] = doc["metrics"]
    assert (len(bw["base"]), len(bw["dev"])) == (6, 3)  # two base runs of bench, 3 samples each
    assert bw["significant"] and bw["verdict"] == "regression"


def test_job_ids_and_prefixes(lab):
    d, h, ids = lab
    res, doc = compare_json(ids[0], ids[3][:6], "--history", str(h))
    assert res.returncode == TESTS_FAILED, res.stderr
    assert doc["base_jobs"] == [ids[0]] and doc["dev_jobs"] == [ids[3]]
    assert verdicts(doc)["feature"] == "regression"
    # a directory and a job id mix on one side
    res, doc = compare_json(str(d / "b1"), str(d / "d1"), "--base", ids[2], "--history", str(h))
    assert doc["base_jobs"] == [ids[0], ids[2]]


def test_flaky_in_the_history_demotes_a_regression(lab):
    """b3 passed `steady`, d2 failed it: a regression, unless the history knows `steady`
    flips on the baseline's own tags (kernel=6.1: P F P)."""
    d, h, ids = lab
    res, doc = compare_json(str(d / "b3"), str(d / "d2"), "--history", str(h))
    assert res.returncode == OK, res.stdout
    assert verdicts(doc) == {"steady": "flaky", "feature": "removed", "legacy": "removed",
                             "bench": "removed"}
    steady = next(t for t in doc["tests"] if t["shortname"] == "steady")
    assert steady["flaky_on_base"]
    assert "flaky on base (history)" in steady["evidence"]
    res, doc = compare_json(str(d / "b3"), str(d / "d2"), "--no-history")
    assert res.returncode == TESTS_FAILED and verdicts(doc)["steady"] == "regression"


def test_history_mistakes_are_bad_input(lab, tmp_path):
    d, h, ids = lab
    res = run_py("compare", "kernel=9.9", ids[3], "--history", str(h))
    assert res.returncode == BAD_INPUT
    assert "kernel=9.9: not a results directory (no results.json), and no job of the history" \
        in res.stderr
    res = run_py("compare", "not/a/dir", ids[3], "--history", str(h))
    assert res.returncode == BAD_INPUT and "nor a job id or tag selection" in res.stderr
    missing = tmp_path / "none.db"
    res = run_py("compare", ids[0], ids[3], "--history", str(missing))
    assert res.returncode == BAD_INPUT and f"no history file {missing}" in res.stderr
    assert not missing.exists()  # looking does not create one
    res = run_py("compare", ids[0], ids[3], "--no-history")
    assert res.returncode == BAD_INPUT and "there is no history to look it up in" in res.stderr
    assert run_py("compare", ids[0], ids[3], "--history", str(h),
                  "--no-history").returncode == BAD_INPUT
    assert "Traceback" not in res.stderr


def naps(root: Path, seconds: Sequence[float], prefix: str, t0: float) -> List[Path]:
    """One results directory per duration, each one job (started ``t0``, then every 1000 s)
    whose test ``nap`` PASSed in that many seconds: written by the results writers, exact
    durations, no sleeping."""
    return [write_job(root, f"{prefix}{i}", t0 + 1000 * i, [("nap", "PASS", None, secs)])
            for i, secs in enumerate(seconds)]


def test_history_spread_vetoes_a_one_run_duration_change(tmp_path):
    """One run per side, 0.1 s -> 1.6 s: slower by the one-run rule, unless the history shows
    this test's duration swinging that much anyway (0.1, 1.8, 0.1, 1.8 s: 3 MAD = 2.55 s)."""
    from kvmtest.history import HistoryStore

    past = naps(tmp_path / "r", (0.1, 1.8, 0.1, 1.8), "h", T0)
    base, dev = naps(tmp_path / "r", (0.1, 1.6), "side", T0 + 10_000)
    h = tmp_path / "history.db"
    with HistoryStore(h) as store:
        for d in past:
            store.import_dir(d)
    res, doc = compare_json(str(base), str(dev), "--no-history")
    assert res.returncode == OK, res.stderr  # slower is reported, not a failure
    [nap] = doc["durations"]
    assert nap["verdict"] == "slower" and nap["rule"] == "threshold"
    res, doc = compare_json(str(base), str(dev), "--history", str(h))
    assert doc["durations"][0]["verdict"] == ""


def test_the_dev_run_indexed_in_the_history_does_not_hide_its_own_slowdown(tmp_path):
    """Every run indexes itself, so the history normally holds both sides, and later runs
    too. 0.1 s -> 1.6 s is slower: the spread comes from the base side and older runs only;
    with the dev run and a later one of 3 s (0.1, 1.6, 3.0: 3 MAD = 4.2 s; without the dev
    run: 0.1, 3.0: 4.35 s) the slowdown would be vetoed."""
    from kvmtest.history import HistoryStore

    h = tmp_path / "history.db"
    base, dev, _ = naps(tmp_path / "r", (0.1, 1.6, 3.0), "run", T0)
    with HistoryStore(h) as store:  # as each run's own end-of-job indexing does
        for d in sorted((tmp_path / "r").iterdir()):
            store.import_dir(d)
        assert len(store.durations(["nap"], last=9)["nap"]) == 3  # all of them are indexed
    res, doc = compare_json(str(base), str(dev), "--history", str(h))
    assert res.returncode == OK, res.stderr
    [nap] = doc["durations"]
    assert (nap["verdict"], nap["rule"]) == ("slower", "threshold"), nap


@pytest.mark.parametrize("doc", ["history.md", "compare.md"])
def test_docs_count_the_example_tests_right(doc):
    """docs/history.md and docs/compare.md say how many tests compare.cfg has: the planner's
    count (history.md once said three after the example grew a fourth)."""
    res = run_py("-c", CFG, "--set", "baseline", "--dry-run", "--format", "json")
    assert res.returncode == OK, res.stderr
    planned = len([line for line in res.stdout.splitlines() if line.strip()])
    words = {"three": 3, "four": 4, "five": 5, "six": 6}
    text = " ".join((ROOT / "docs" / doc).read_text().split())
    said = re.findall(r"\(examples/compare\.cfg\) (?:has|runs) (\w+) host-only tests", text)
    assert said and all(words.get(w) == planned for w in said), (said, planned)


def test_failed_runs_in_the_history_do_not_widen_the_duration_spread(tmp_path):
    """The sides time PASS runs only, so the history's spread must too: `nap` passed in
    10.0 and 10.2 s and failed early (1 s) or hung (40 s) in between. 10 s -> 14 s is
    slower; with the failures counted (1, 40, 1, 10, 10.2: 3 MAD = 27 s) it was vetoed."""
    from kvmtest.compare import compare_with_history
    from kvmtest.history import HistoryStore
    from kvmtest.results.store import load_results
    from tests.history.kit import write_job

    t0 = 1_800_000_000.0
    runs = [("PASS", None, 10.0), ("FAIL", "TestFail", 1.0), ("FAIL", "TestTimeout", 40.0),
            ("FAIL", "TestFail", 1.0), ("PASS", None, 10.2)]
    h = tmp_path / "history.db"
    with HistoryStore(h) as store:
        for i, (status, cls, secs) in enumerate(runs):
            store.import_dir(write_job(tmp_path / "r", f"past{i}", t0 + 1000 * i,
                                       [("nap", status, cls, secs)]))
        base = write_job(tmp_path / "r", "base", t0 + 9000, [("nap", "PASS", None, 10.0)])
        dev = write_job(tmp_path / "r", "dev", t0 + 10000, [("nap", "PASS", None, 14.0)])
        for d in (base, dev):
            store.import_dir(d)
        got = compare_with_history([load_results(base)], [load_results(dev)], store)
    [nap] = got.durations
    assert (nap.verdict, nap.rule) == ("slower", "threshold")


def test_a_metric_with_one_value_per_side_is_judged_by_the_history(tmp_path):
    """One nightly run per kernel gives one bandwidth sample per side: no interval can be
    drawn from the sides, so the history's earlier values say what is usual (a 95 %
    prediction interval). 100 -> 80 MB/s is a regression where earlier runs gave 99-101,
    not where they swung 60-140; with too little history (2 values) nothing is claimed."""
    from kvmtest.compare import compare, compare_with_history
    from kvmtest.history import HistoryStore
    from kvmtest.results.records import Metric
    from kvmtest.results.store import load_results
    from tests.history.kit import write_job

    t0 = 1_800_000_000.0

    def verdict(name, earlier):
        root = tmp_path / name
        with HistoryStore(tmp_path / f"{name}.db") as store:
            for i, v in enumerate(earlier):
                store.import_dir(write_job(root, f"past{i}", t0 + 1000 * i, [("net", "PASS")],
                                           metrics={"net": [Metric("bw", v, "MB/s", "higher")]}))
            sides = []
            for job_id, t, v in (("base", 9000, 100.0), ("dev", 10000, 80.0)):
                d = write_job(root, job_id, t0 + t, [("net", "PASS")],
                              metrics={"net": [Metric("bw", v, "MB/s", "higher")]})
                store.import_dir(d)  # every run indexes itself: dev must not count
                sides.append([load_results(d)])
            [row] = compare_with_history(*sides, store).metrics
            [alone] = compare(*sides).metrics
        assert (alone.rule, alone.significant) == ("", False)
        return row.rule, row.verdict

    assert verdict("steady", [99.0, 101.0, 100.5, 99.5]) == ("history", "regression")
    assert verdict("noisy", [60.0, 140.0, 90.0, 120.0]) == ("history", "")
    assert verdict("short", [99.0]) == ("", "")  # the base run + 1: too few to predict
