"""``pip install .`` (not editable) gives a kvmtest that keeps its data out of site-packages.

The install is real: the source is copied to a temp dir, installed with pip into a
throwaway venv (no downloads: ``--no-index --no-deps --no-build-isolation``; the
dependencies come from the running interpreter's site-packages through a ``.pth``
path line), and the installed copy is run from a directory that is not a checkout.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import kvmtest

ROOT = Path(__file__).resolve().parents[1]


def _can_build_wheels() -> bool:
    if importlib.util.find_spec("setuptools") is None:
        return False
    return (importlib.util.find_spec("wheel") is not None
            or importlib.util.find_spec("setuptools.command.bdist_wheel") is not None)


pytestmark = [
    pytest.mark.skipif(not _can_build_wheels(), reason="needs setuptools and wheel (pip install -e '.[test]')"),
    pytest.mark.slow,  # a venv and a pip install: make test runs it, make check does not
]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv python, env for running it, home dir) of a non-editable install of this tree."""
    tmp = tmp_path_factory.mktemp("pkg")
    src = tmp / "src"
    src.mkdir()
    for name in ("setup.py", "setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "kvmtest", src / "kvmtest", ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    vpy = venv / "bin" / "python"
    purelib = subprocess.run([str(vpy), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # Dependencies (and pip, setuptools, wheel) from the running interpreter, after the venv's own.
    (Path(purelib) / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    home = tmp / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "KVMTEST_DATA_DIR", "XDG_DATA_HOME", "XDG_CACHE_HOME", "VIRTUAL_ENV")}
    env["HOME"] = str(home)
    res = subprocess.run([str(vpy), "-m", "pip", "install", "-q", "--no-index", "--no-deps",
                          "--no-build-isolation", str(src)],
                         cwd=tmp, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    return vpy, env, home, Path(purelib)


def _run(vpy: Path, env: dict, code: str, cwd: Path) -> dict:
    res = subprocess.run([str(vpy), "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


PROBE = """
import json, kvmtest, kvmtest.paths as p
from kvmtest.vm.params import resolve_path
from importlib.metadata import version, requires
print(json.dumps({"file": kvmtest.__file__, "checkout": str(p.checkout_root()), "data": str(p.data_dir()),
                  "tiny": str(p.tiny_guest_dir()), "kernel": str(resolve_path("images/tiny/vmlinuz")),
                  "version": kvmtest.__version__, "dist_version": version("kvmtest"),
                  "requires": requires("kvmtest")}))
"""


def test_installed_copy_uses_the_user_data_dir_not_site_packages(installed):
    vpy, env, home, purelib = installed
    got = _run(vpy, env, PROBE, cwd=home)
    assert Path(got["file"]).is_relative_to(purelib)  # the installed copy, not the checkout
    assert got["checkout"] == "None"
    data = home / ".local" / "share" / "kvmtest"
    assert got["data"] == str(data)
    assert got["tiny"] == str(data / "images" / "tiny")
    assert got["kernel"] == str(data / "images" / "tiny" / "vmlinuz")
    # one version, written once (kvmtest/__init__.py), and no unused dependency
    assert got["version"] == got["dist_version"] == kvmtest.__version__
    assert not [r for r in got["requires"] if r.startswith("pyparsing")]

    env2 = dict(env, XDG_DATA_HOME=str(home / "xdg"))
    assert _run(vpy, env2, PROBE, cwd=home)["data"] == str(home / "xdg" / "kvmtest")
    env3 = dict(env, KVMTEST_DATA_DIR=str(home / "mine"))
    assert _run(vpy, env3, PROBE, cwd=home)["tiny"] == str(home / "mine" / "images" / "tiny")


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img not installed")
def test_installed_tinyguest_build_writes_into_the_data_dir(installed):
    vpy, env, home, purelib = installed
    res = subprocess.run([str(vpy), "-m", "kvmtest.vm.tinyguest", "build"], cwd=home, env=env,
                         capture_output=True, text=True, timeout=300)
    if res.returncode != 0 and ("install linux-image" in res.stderr or "busybox" in res.stderr):
        pytest.skip(res.stderr.strip())
    assert res.returncode == 0, res.stderr
    tiny = home / ".local" / "share" / "kvmtest" / "images" / "tiny"
    assert f"kernel: {tiny / 'vmlinuz'}" in res.stdout
    for name in ("vmlinuz", "initrd.img", "data.qcow2", "stamp.json"):
        assert (tiny / name).is_file(), name
    assert not list(purelib.rglob("images")), "the installed package wrote images into site-packages"


def test_installed_cli_plans_the_demo(installed, tmp_path):
    """The demo's plan from the installed entry point; its guest files are looked up in the
    data dir (an empty one here, whichever test ran first: the dry run lists the plan and
    names what is missing there, exit 2)."""
    vpy, env, home, _purelib = installed
    res = subprocess.run([str(vpy.parent / "kvmtest"), "--version"], cwd=home, env=env,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stdout.strip() == f"kvmtest {kvmtest.__version__}", res
    data = tmp_path / "data"
    res = subprocess.run([str(vpy.parent / "kvmtest"), "-c", str(ROOT / "samples/demo/kvm_hosts.cfg"),
                          "--set", "smoke", "--dry-run"], cwd=home, env=dict(env, KVMTEST_DATA_DIR=str(data)),
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "boot" in res.stdout and "8 test(s) on host" in res.stdout
    assert f"error: kernel 'images/tiny/vmlinuz' of guest vm1: no such file ({data}/images/tiny/vmlinuz)" \
        in res.stderr, res.stderr
    assert "run `make guest` for the tiny guest" in res.stderr


def test_installed_copy_has_the_report_templates(installed, tmp_path):
    """report.html's templates are package data: an installed kvmtest renders a report."""
    vpy, env, home, purelib = installed
    assert sorted(p.name for p in (purelib / "kvmtest" / "report" / "templates").iterdir()) == \
        sorted(p.name for p in (ROOT / "kvmtest" / "report" / "templates").iterdir())
    results = tmp_path / "r"
    results.mkdir()
    (results / "results.json").write_text(json.dumps({
        "schema_version": 2, "job": {"job_id": "j1", "start": 1.0}, "planned": 1, "superseded": [],
        "tests": [{"id": "h/q/1-a", "name": "set.a", "shortname": "a", "status": "PASS",
                   "hostname": "h", "queue": "q", "start": 1.0, "end": 2.0}]}))
    res = subprocess.run([str(vpy.parent / "kvmtest"), "report", str(results)], cwd=home, env=env,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "h/q/1-a" in (results / "report.html").read_text()


def test_a_plain_install_is_pure_python(installed, tmp_path):
    """setup.py compiles kvmtest.config only when KVMTEST_MYPYC=1 (docs/hacking.md)."""
    vpy, env, _, purelib = installed
    assert not list((purelib / "kvmtest").rglob("*.so"))
    out = subprocess.run([str(vpy), "-m", "kvmtest.config", "--version"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("kvmtest.config pure Python")
