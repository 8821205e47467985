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


def _packed(src_root: Path, rel: str) -> bytes:
    """A test's log dir packed as pack_logdir packs it (the directory entry first)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(str(src_root / rel), arcname=rel)
    return buf.getvalue()


def test_logs_of_one_queue_unpack_side_by_side(tmp_path):
    """Log copies run in a thread pool: two tests of one queue share a parent directory that
    neither extraction may fail to create (was: FileExistsError, that test's logs lost)."""
    pytest.importorskip("distributed")
    import threading

    from kvmtest.cluster.coordinator import unpack_logs

    src = tmp_path / "src"
    rels = [f"tests/hostB-1/{i}-t{i}" for i in range(8)]
    for rel in rels:
        (src / rel).mkdir(parents=True)
        (src / rel / "debug.log").write_text(rel)
    blobs = [_packed(src, rel) for rel in rels]
    errors: list = []
    for round_ in range(30):
        base = tmp_path / str(round_)
        gate = threading.Barrier(len(rels))

        def unpack(blob, rel, base=base, gate=gate):
            gate.wait()
            try:
                unpack_logs(blob, base, rel)
            except Exception as exc:  # collected for the assertion
                errors.append(exc)

        threads = [threading.Thread(target=unpack, args=a) for a in zip(blobs, rels)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert all((base / rel / "debug.log").read_text() == rel for rel in rels)
