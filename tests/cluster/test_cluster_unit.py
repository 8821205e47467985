"""Small pieces of the cluster layer: the missing-extra message, log unpacking, addresses."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from kvmtest.cluster.lab import REPO, env

CFG = """
variants:
    - nap:
        type = sleep
        sleep_length = 0
variants:
    - @hostA:
        hostname = hostA
"""

NO_DASK = "import sys; sys.modules['distributed'] = None; from kvmtest.cli import main; " \
          "sys.exit(main(sys.argv[1:]))"


@pytest.mark.parametrize("args", [["--cluster", "local:"], ["worker", "--scheduler", "tcp://x:1"]])
def test_without_distributed_the_cluster_commands_say_how_to_install_it(tmp_path, args):
    cfg = tmp_path / "c.cfg"
    cfg.write_text(CFG)
    if args[0] == "--cluster":
        args = ["-c", str(cfg), "--results", str(tmp_path / "r"), *args]
    r = subprocess.run([sys.executable, "-c", NO_DASK, *args], env=env(), cwd=REPO,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stderr
    assert "needs Dask distributed" in r.stderr
    assert "pip install 'kvmtest[cluster]'" in r.stderr
    assert not (tmp_path / "r").exists()


def _tar(entries) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_logs_are_unpacked_only_under_the_tests_own_directory(tmp_path):
    pytest.importorskip("distributed")
    from kvmtest.cluster.coordinator import unpack_logs

    rel = "tests/hostA-1/1-nap"
    unpack_logs(_tar([(f"{rel}/debug.log", b"hello\n")]), tmp_path, rel)
    assert (tmp_path / rel / "debug.log").read_text() == "hello\n"
    for bad in ("tests/hostA-1/2-other/debug.log", f"{rel}/../../../evil", "/etc/evil"):
        with pytest.raises(ValueError, match="unexpected entry"):
            unpack_logs(_tar([(bad, b"x")]), tmp_path, rel)
    assert not (tmp_path / "evil").exists() and not Path(tmp_path / "tests/hostA-1/2-other").exists()


def test_local_addresses():
    pytest.importorskip("distributed")
    from kvmtest.cluster.connect import ClusterSetupError, parse_local

    assert parse_local("local:") == ("0.0.0.0", 8786)
    assert parse_local("local:10.1.2.3:0") == ("10.1.2.3", 0)
    assert parse_local("local:10.1.2.3") == ("10.1.2.3", 8786)
    with pytest.raises(ClusterSetupError):
        parse_local("local:host:port")
