"""``results/latest``: made by real jobs under the default root, followed and never counted twice."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

import pytest

from kvmtest.history import HistoryStore
from kvmtest.results import latest as latest_mod
from kvmtest.results.durations import ResultsDurations
from kvmtest.results.latest import follow, job_dir, point_latest, unique_paths
from kvmtest.results.store import RESULTS_JSON, load_results
from tests.clirun import run_cli

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "samples" / "demo" / "kvm_hosts.cfg"


def run_py(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """``run.py ARGS`` as a QA engineer types it in ``cwd`` (its history file in ``cwd`` too),
    in this process (tests/clirun.py: ``main``'s exit code and output; the links and paths
    under test do not depend on the process)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KVMTEST_HISTORY", str(cwd / "history.db"))
        return run_cli(*args, cwd=cwd)


def host_job(cwd: Path, *extra: str) -> subprocess.CompletedProcess:
    """The demo's host-only test (``uname -r`` on the host, no guest) as a real job."""
    return passed(run_py(cwd, "-c", str(DEMO), "--set", "smoke", "--only", "host_uname", *extra))


def passed(p: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert p.returncode == 0, p.stdout + p.stderr
    return p


def job_dirs(root: Path) -> list:
    return sorted(d for d in root.iterdir() if d.is_dir() and not d.is_symlink())


def test_each_job_under_the_default_root_becomes_latest_and_readers_count_it_once(tmp_path):
    host_job(tmp_path)
    root = tmp_path / "results"
    [first] = job_dirs(root)
    assert os.readlink(root / "latest") == first.name  # relative: the tree can move
    host_job(tmp_path)
    first, second = job_dirs(root)
    assert os.readlink(root / "latest") == second.name
    assert sorted(p.name for p in root.iterdir()) == [first.name, second.name, "latest"]  # no temp

    # --durations results/: two jobs, not three (latest/results.json is the second one again)
    source = ResultsDurations([root])
    assert len(source.files) == 2
    assert len(source.durations(["host_uname"], last=10)["host_uname"]) == 2

    # history rebuild results/: the two jobs the live index holds, each once, under its own dir
    with HistoryStore(tmp_path / "history.db") as live:
        indexed = sorted((j.results_dir, j.job_id) for j in live.jobs())
    assert [d for d, _ in indexed] == [str(first), str(second)]
    p = run_py(tmp_path, "history", "rebuild", "results", "--history", "rebuilt.db")
    assert p.returncode == 0, p.stderr
    with HistoryStore(tmp_path / "rebuilt.db") as rebuilt:
        assert sorted((j.results_dir, j.job_id) for j in rebuilt.jobs()) == indexed

    # ./run.py results results/latest: the job it names, and its paths name that job
    p = run_py(tmp_path, "results", "results/latest")
    assert p.returncode == 0, p.stderr
    assert f"results: results/{second.name}" in p.stdout and "latest" not in p.stdout

    # kvmtest report / compare through the link
    p = run_py(tmp_path, "report", "results/latest", "--baseline", f"results/{first.name}")
    assert p.returncode == 0, p.stdout + p.stderr
    assert (second / "report.html").is_file() and (root / "latest").resolve() == second
    p = run_py(tmp_path, "compare", f"results/{first.name}", "results/latest")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "1 unchanged" in p.stdout


def test_resume_makes_the_job_latest_again_and_writes_where_the_link_pointed(tmp_path):
    host_job(tmp_path)
    host_job(tmp_path)
    root = tmp_path / "results"
    first, second = job_dirs(root)
    passed(run_py(tmp_path, "--resume", f"results/{first.name}"))  # the job last run is latest
    assert os.readlink(root / "latest") == first.name
    p = passed(run_py(tmp_path, "--resume", "results/latest"))  # = the first job, written there
    assert f"results: {first}" in p.stdout, p.stdout
    assert len(load_results(first).job.runs) == 3
    assert os.readlink(root / "latest") == first.name and job_dirs(root) == [first, second]


def test_a_results_dir_elsewhere_gets_a_link_only_where_one_was_made_before(tmp_path):
    host_job(tmp_path, "--results", "out/a")
    assert not (tmp_path / "out" / "latest").exists()  # --results /tmp/x never litters /tmp
    (tmp_path / "out" / "latest").symlink_to("a")  # opting the directory in, once
    host_job(tmp_path, "--results", "out/b")
    assert os.readlink(tmp_path / "out" / "latest") == "b"
    host_job(tmp_path, "--results", "results/named")  # the default root, a name of one's own
    assert os.readlink(tmp_path / "results" / "latest") == "named"


def test_a_latest_that_cannot_be_made_is_one_warning_and_the_job_passes(tmp_path):
    (tmp_path / "results" / "latest").mkdir(parents=True)  # someone's real directory
    (tmp_path / "results" / "latest" / "keep").write_text("x")
    p = host_job(tmp_path)
    assert p.stderr.count("could not point") == 1, p.stderr
    assert (tmp_path / "results" / "latest" / "keep").read_text() == "x"
    assert [n for n in os.listdir(tmp_path / "results") if n.startswith(".")] == []


def test_point_latest_rules_without_a_job(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results" / "j1").mkdir(parents=True)
    link = point_latest(Path("results/j1"))
    assert link == tmp_path / "results" / "latest" and os.readlink(link) == "j1"
    assert point_latest(tmp_path / "results" / "latest") is None  # never a link to itself
    assert point_latest(tmp_path / "elsewhere" / "j") is None
    assert not (tmp_path / "elsewhere").exists()
    link.unlink()
    (link / "mine").mkdir(parents=True)  # a real directory is never replaced
    with caplog.at_level(logging.WARNING, logger=latest_mod.log.name):
        assert point_latest(Path("results/j2")) is None
    assert len(caplog.records) == 1 and "could not point" in caplog.records[0].getMessage()
    assert sorted(os.listdir("results")) == ["j1", "latest"]  # no temp link left behind


def test_follow_job_dir_and_unique_paths(tmp_path):
    (tmp_path / "r" / "j1").mkdir(parents=True)
    (tmp_path / "r" / "j1" / RESULTS_JSON).write_text("{}")
    (tmp_path / "r" / "latest").symlink_to("j1")
    assert follow(tmp_path / "r" / "latest") == tmp_path / "r" / "j1"
    assert follow(Path("r/latest")) == Path("r/latest")  # not a link from this cwd: as given
    assert job_dir(tmp_path / "r" / "latest") == (tmp_path / "r" / "j1").resolve()
    files = sorted((tmp_path / "r").glob(f"*/{RESULTS_JSON}"))
    assert len(files) == 2 and unique_paths(files) == [tmp_path / "r" / "j1" / RESULTS_JSON]


def test_infra_classes_have_one_home():
    from kvmtest.compare import INFRA_CLASSES as compare_classes
    from kvmtest.history import store
    from kvmtest.results.records import INFRA_CLASSES

    assert compare_classes is INFRA_CLASSES and store.INFRA_CLASSES is INFRA_CLASSES
    assert "HostLost" in INFRA_CLASSES and "TestTimeout" not in INFRA_CLASSES
