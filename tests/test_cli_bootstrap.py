"""./run.py with the system python3 (no netaddr...): it re-runs itself with the checkout's
.venv, or says in one line what to run. Real processes, a clean environment."""

import configparser
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kvmtest import bootstrap
from kvmtest.exitcodes import INFRA

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = "/usr/bin/python3"


def _system_python_lacks_deps() -> bool:
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return False
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import netaddr, tabulate"],
                           capture_output=True, env=clean_env())
    return probe.returncode != 0


def clean_env() -> dict:
    """What a fresh login shell has: no venv on PATH, no PYTHONPATH. The suite's isolation
    (conftest's temp history, a test's data dir) is kept: a job run from this env must not
    index itself into the real user's history."""
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root")}
    for name in ("KVMTEST_HISTORY", "KVMTEST_DATA_DIR", "XDG_DATA_HOME"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


needs_bare_python = pytest.mark.skipif(
    not _system_python_lacks_deps(), reason="needs a system python3 without kvmtest's dependencies")


def bare_checkout(tmp_path: Path) -> Path:
    """A checkout without .venv: run.py, the package and the samples."""
    root = tmp_path / "checkout"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "kvmtest", root / "kvmtest", ignore=ignore)
    shutil.copytree(ROOT / "samples", root / "samples", ignore=ignore)
    shutil.copy2(ROOT / "run.py", root / "run.py")
    return root


def test_required_modules_match_setup_cfg():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    names = [re.split(r"[<>=!~ ;\[]", line.strip())[0]
             for line in cfg["options"]["install_requires"].splitlines() if line.strip()]
    assert sorted(n.lower() for n in names) == sorted(bootstrap.REQUIRED)


@needs_bare_python
def test_system_python_uses_the_checkouts_venv():
    assert (ROOT / ".venv" / "bin" / "python").exists()
    proc = subprocess.run(["./run.py", "-c", "samples/kvm_hosts.cfg", "--set", "nightly", "--dry-run",
                           "--all-hosts"], cwd=ROOT, env=clean_env(), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "21 test(s) on all hosts" in proc.stdout
    assert "Traceback" not in proc.stderr


@needs_bare_python
def test_without_venv_one_line_says_make_venv(tmp_path):
    root = bare_checkout(tmp_path)
    proc = subprocess.run([SYSTEM_PYTHON, str(root / "run.py"), "-c", "samples/kvm_hosts.cfg",
                           "--dry-run"], cwd=root, env=clean_env(), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == INFRA
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert "cannot import " in lines[0] and "netaddr" in lines[0].split("cannot import ")[1]
    assert f"run `make venv` in {root}" in lines[0]


@needs_bare_python
def test_a_venv_without_the_deps_is_not_an_exec_loop(tmp_path):
    root = bare_checkout(tmp_path)
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "python").symlink_to(SYSTEM_PYTHON)  # still no netaddr
    proc = subprocess.run([SYSTEM_PYTHON, str(root / "run.py"), "-c", "samples/kvm_hosts.cfg",
                           "--dry-run"], cwd=root, env=clean_env(), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == INFRA
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "its .venv lacks them too: run `make venv`" in lines[0], proc.stderr
