"""The shared tiny_guest fixture (tests/conftest.py): builds a missing guest, or skips saying why.

Each case runs a real pytest on one test that needs the tiny guest but boots none.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NEEDS_TINY = "tests/vm/test_libvirt_xml.py::test_accel_kvm_means_a_kvm_domain_with_the_host_cpu"


def _pytest(env_extra: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KVMTEST_", "PYTEST_"))}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", NEEDS_TINY],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img not installed")
def test_fixture_builds_the_tiny_guest_when_missing(tmp_path):
    data = tmp_path / "data"  # a fresh tree: no images/ yet
    res = _pytest({"KVMTEST_DATA_DIR": str(data)}, tmp_path)
    if "cannot be built here" in res.stdout:
        pytest.skip(res.stdout.strip().splitlines()[-1])
    assert res.returncode == 0 and "1 passed" in res.stdout, res.stdout + res.stderr
    for name in ("vmlinuz", "initrd.img", "data.qcow2"):
        assert (data / "images" / "tiny" / name).is_file(), name


def test_fixture_skips_naming_the_missing_tool(tmp_path):
    bare = tmp_path / "bin"  # a PATH without qemu
    bare.mkdir()
    res = _pytest({"KVMTEST_DATA_DIR": str(tmp_path / "data"), "PATH": str(bare)}, tmp_path)
    assert res.returncode == 0 and "1 skipped" in res.stdout, res.stdout + res.stderr
    assert "tiny guest: qemu-system-x86_64 not installed" in res.stdout
    assert not (tmp_path / "data").exists()
