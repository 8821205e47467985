"""Dask TLS passed through: a job over TLS works, and a worker without a certificate cannot join.

Real processes on 127.0.0.1: the coordinator (scheduler in-process) and ``kvmtest worker``
processes, with a throwaway CA and certificate made by openssl in the test.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

from kvmtest.cluster.lab import REPO, coordinator_argv, env, free_port

pytestmark = [
    # find_spec, not an import: importing distributed costs ~0.8 s of CPU in every process that
    # collects the suite, make check's included (where these tests never run)
    pytest.mark.skipif(find_spec("distributed") is None, reason="Dask distributed not installed"),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed"),
    # a scheduler and three Dask worker processes, and a wait for a worker that must not get
    # in: make test runs it, make check does not
    pytest.mark.slow,
]

CFG = """
variants:
    - nap:
        type = sleep
        sleep_length = 0
    - cmd:
        type = host_cmd
        host_cmd = true
variants:
    - @hostA:
        hostname = hostA
    - @hostB:
        hostname = hostB
variants:
    - @both:
        hostA:
            only nap
        hostB:
            only cmd
"""


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def certs(tmp_path) -> Path:
    d = tmp_path / "tls"
    d.mkdir()
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
             "ca.pem", "-days", "1", "-subj", "/CN=kvmtest-test-ca", cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out", "node.csr",
             "-subj", "/CN=node", cwd=d)
    (d / "ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "node.pem", "-days", "1", "-extfile", "ext", cwd=d)
    return d


def test_a_job_runs_over_tls_and_a_worker_without_certificate_cannot_join(tmp_path, certs):
    tls = ["--tls-ca-file", str(certs / "ca.pem"), "--tls-cert", str(certs / "node.pem"),
           "--tls-key", str(certs / "node.key")]
    cfg = tmp_path / "c.cfg"
    cfg.write_text(CFG)
    port = free_port("127.0.0.1")
    workers = []

    def worker(name: str, *extra: str) -> subprocess.Popen:
        log = open(tmp_path / f"{name}-{len(workers)}.log", "w")
        p = subprocess.Popen([sys.executable, str(REPO / "run.py"), "worker", "--scheduler",
                              f"tls://127.0.0.1:{port}", "--name", name, "--host", "127.0.0.1",
                              "--workdir", str(tmp_path / f"w-{name}"), *extra],
                             env=env(), stdout=log, stderr=subprocess.STDOUT)
        workers.append(p)
        return p

    def coordinator(results: str, wait: str) -> subprocess.CompletedProcess:
        return subprocess.run(coordinator_argv("-c", str(cfg), "--set", "both", "--cluster",
                                               f"local:127.0.0.1:{port}", "--results",
                                               str(tmp_path / results), "--wait-hosts", wait,
                                               *tls),
                              env=env(), cwd=REPO, capture_output=True, text=True, timeout=300)

    try:
        worker("hostA", *tls)
        plain_b = worker("hostB")  # no certificate: the scheduler must not let it in
        r = coordinator("r1", "15")
        assert r.returncode == 2, r.stdout + r.stderr
        assert "no worker for host(s) hostB" in r.stderr
        assert "--tls-ca-file CA --tls-cert CERT --tls-key KEY" in r.stderr
        plain_b.send_signal(signal.SIGTERM)
        plain_b.wait(60)
        worker("hostB", *tls)
        r = coordinator("r2", "120")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "[hostA/default] PASS" in r.stdout and "[hostB/default] PASS" in r.stdout
        # the coordinator wrote report.html: both hosts' rows, each host's facts (hosts.json)
        report = (tmp_path / "r2" / "report.html").read_text()
        for host in ("hostA", "hostB"):
            assert f">{host}/default<title>" in report and f"<tr><th>{host}</th>" in report
    finally:
        for p in workers:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in workers:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
