"""Config values that would make paths: env names, guest/image/NIC names, queue names, --results.

The bad ones must exit 2 at plan time, naming the value, the test and the statement, before
anything is written (the CLI in this process, tests/clirun.py: ``refused``); the good ones run
a real ./run.py process (``run``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kvmtest.plan.names import env_file_name, safe_name
from kvmtest.vm.netns import ns_name
from tests.clirun import run_cli

ROOT = Path(__file__).resolve().parents[2]

CFG = """\
type = host_cmd
host_cmd = true
hostname = localhost
{extra}
variants:
    - @qa:
        queue = {qa}
        env = {ea}
    - @qb:
        queue = {qb}
        env = {eb}
"""


def _cfg(tmp_path: Path, extra: str = "", qa: str = "a", qb: str = "b", ea: str = "env-a",
         eb: str = "env-b") -> Path:
    cfg = tmp_path / "hosts.cfg"
    cfg.write_text(CFG.format(extra=extra, qa=qa, qb=qb, ea=ea, eb=eb))
    return cfg


def run(tmp_path: Path, *args: str, **fmt: str) -> subprocess.CompletedProcess:
    """./run.py, the job runs (in this process: what it writes is the point, tests/clirun.py)."""
    return run_cli("-c", _cfg(tmp_path, **fmt), *args, cwd=tmp_path)


def refused(tmp_path: Path, *args: str, **fmt: str) -> subprocess.CompletedProcess:
    """The CLI in this process, for what must stop at plan time."""
    return run_cli("-c", _cfg(tmp_path, **fmt), *args, cwd=tmp_path)


def test_env_path_is_refused(tmp_path):
    shared = tmp_path / "shared-env"
    res = refused(tmp_path, "--results", str(tmp_path / "r"), ea=str(shared))
    assert res.returncode == 2, res.stdout + res.stderr
    assert f"env {str(shared)!r} is a path" in res.stderr
    assert "hosts.cfg:" in res.stderr and "Traceback" not in res.stderr
    assert not shared.exists() and not (tmp_path / "r").exists()


def test_envs_that_clean_alike_get_their_own_files(tmp_path):
    res = run(tmp_path, "--results", str(tmp_path / "r"), ea="e 1", eb="e_1")
    assert res.returncode == 0, res.stdout + res.stderr
    files = sorted(p.name for p in (tmp_path / "r" / "env").iterdir())
    assert files == sorted([env_file_name("e 1"), env_file_name("e_1")]) and len(set(files)) == 2


def test_one_env_twice_is_still_refused(tmp_path):
    res = refused(tmp_path, "--dry-run", ea="same", eb="same")
    assert res.returncode == 2 and "share env file env/same.json" in res.stderr


def test_queue_names_that_clean_alike_get_their_own_dirs(tmp_path):
    res = run(tmp_path, "--results", str(tmp_path / "r"), qa="x y", qb="x_y")
    assert res.returncode == 0, res.stdout + res.stderr
    logdirs = sorted(p.name for p in (tmp_path / "r" / "tests").iterdir())
    assert len(logdirs) == 2, logdirs
    for a, b in (("x y", "x_y"), ("x-y", "x_y"), ("q" * 90, "q" * 90 + "2")):
        assert safe_name(a) != safe_name(b)
        assert ns_name("job", a) != ns_name("job", b)


@pytest.mark.parametrize("key,value", [
    ("vms", "../../../evil-dir/evil"),
    ("main_vm", "a/b"),
    ("images", "../img"),
    ("nics", "nic,romfile=x"),
])
def test_names_that_would_escape_are_refused(tmp_path, key, value):
    (tmp_path / "evil-dir").mkdir()
    extra = f"{key} = {value}\nstart_vm = yes"
    res = refused(tmp_path, "--results", str(tmp_path / "w" / "x" / "r"), extra=extra)
    assert res.returncode == 2, res.stdout + res.stderr
    assert f"{key}: " in res.stderr and repr(value) in res.stderr and "not a plain name" in res.stderr
    assert "test " in res.stderr and "hosts.cfg:" in res.stderr
    assert list((tmp_path / "evil-dir").iterdir()) == []
    assert not (tmp_path / "w").exists()


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "-inf"])
def test_timeout_that_disables_the_watchdog_is_refused(tmp_path, value):
    res = refused(tmp_path, "--results", str(tmp_path / "r"), "-p", f"timeout={value}")
    assert res.returncode == 2, res.stdout + res.stderr
    assert f"timeout {value!r} must be a finite number" in res.stderr
    assert not (tmp_path / "r").exists()
    res = refused(tmp_path, "--dry-run", extra=f"timeout = {value}")
    assert res.returncode == 2 and "hosts.cfg:" in res.stderr, res.stderr


def test_results_dir_must_be_new_or_empty(tmp_path):
    other = tmp_path / "other"
    (other / "env").mkdir(parents=True)
    (other / "env" / "env-a.json").write_text("precious")
    (other / ".keep.tmp").write_text("precious")
    res = refused(tmp_path, "--results", str(other))
    assert res.returncode == 2, res.stdout + res.stderr
    assert "is not empty and is not a kvmtest results directory" in res.stderr
    assert (other / "env" / "env-a.json").read_text() == "precious"
    assert (other / ".keep.tmp").read_text() == "precious"
    assert sorted(p.name for p in other.iterdir()) == [".keep.tmp", "env"]

    empty = tmp_path / "empty"
    empty.mkdir()
    res = run(tmp_path, "--results", str(empty))
    assert res.returncode == 0, res.stdout + res.stderr
    assert json.loads((empty / "results.json").read_text())["tests"]


GUEST_CFG = """\
include {tiny}
type = boot
accel = tcg
hostname = localhost
variants:
    - @qa:
        queue = x y
        env = e 1
    - @qb:
        queue = x_y
        env = e_1
"""


@pytest.mark.guest
def test_queues_that_clean_alike_boot_side_by_side(tmp_path, tiny_guest):
    """Real qemu: the two queues used to share work dir, sockets and overlay (both ERROR)."""
    cfg = tmp_path / "hosts.cfg"
    cfg.write_text(GUEST_CFG.format(tiny=ROOT / "cfg" / "tiny-guest.cfg"))
    res = subprocess.run([sys.executable, str(ROOT / "run.py"), "-c", str(cfg),
                          "--results", str(tmp_path / "r")],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    tests = json.loads((tmp_path / "r" / "results.json").read_text())["tests"]
    assert sorted((t["queue"], t["status"]) for t in tests) == [("x y", "PASS"), ("x_y", "PASS")]
    a, b = tests
    assert a["start"] < b["end"] and b["start"] < a["end"], "the two queues did not run side by side"
