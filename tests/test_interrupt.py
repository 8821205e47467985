"""Interrupting the suite (Ctrl-C, a second Ctrl-C, SIGTERM) leaves nothing behind.

A real pytest runs a real guest test in a subprocess; once its guests are up it is
interrupted the way a person or CI does it. Afterwards no qemu, network namespace,
libvirt domain or bridge of that pytest may exist, and the libvirt daemons must be
stopped again when that pytest started them (tests/conftest.py, tests/interrupts.py).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import psutil
import pytest

from tests.vm.guestkit import have_guest_tools
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[1]
LIBVIRTD_SH = ROOT / "scripts" / "libvirtd.sh"
URI = "qemu:///system"
LIBVIRT_TEST = "tests/vm/test_libvirt_guest.py::test_ping_between_two_domains_on_an_isolated_bridge"
QEMU_TEST = "tests/testtypes/test_guest_types.py::test_ping_over_tap_in_namespace"


def _libvirt_missing():
    try:
        import libvirt  # noqa: F401
    except ImportError:
        return "libvirt-python not installed"
    if not shutil.which("libvirtd") or not shutil.which("virsh"):
        return "libvirtd not installed (scripts/sysdeps.sh libvirt)"
    return None


pytestmark = [pytest.mark.guest,
              pytest.mark.skipif(have_guest_tools() is not None, reason=str(have_guest_tools()))]


def _qemus(pid: int) -> List[int]:
    """qemu processes of that pytest: our env mark (qemu backend) or the domain name (libvirt)."""
    out = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "qemu-system" not in cmd:
            continue
        try:
            job = proc.environ().get("KVMTEST_JOB", "")
        except (psutil.Error, OSError):
            job = ""
        if job.startswith(f"pytest-{pid}-") or f"kvmtest-pytest_{pid}_" in cmd:
            out.append(proc.pid)
    return out


def _namespaces(pid: int) -> List[str]:
    res = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    return [ln.split()[0] for ln in res.stdout.splitlines() if ln.startswith(f"kvmtest-pytest_{pid}_")]


def _bridges(pid: int) -> List[str]:
    res = subprocess.run(["ip", "-j", "link", "show", "type", "bridge"], capture_output=True, text=True)
    out = []
    for link in json.loads(res.stdout or "[]"):
        if link.get("ifalias", "").startswith(f'kvmtest:["pytest-{pid}-'):
            out.append(link["ifname"])
    return out


def _daemon_answers() -> bool:
    return subprocess.run(["virsh", "-q", "-c", URI, "version"], capture_output=True).returncode == 0


def _domains(pid: int) -> List[str]:
    if not _daemon_answers():
        return []
    res = subprocess.run(["virsh", "-c", URI, "list", "--all", "--name"], capture_output=True, text=True)
    return [n for n in res.stdout.split() if n.startswith(f"kvmtest-pytest_{pid}_")]


def _take_ctrl_c() -> None:
    """In the child pytest, before exec: SIGINT back to its default, as in a terminal's job.

    A suite started as a background job of a non-interactive shell (``bash .ci/run &``, a CI
    runner's step) inherits SIGINT ignored, exec keeps it ignored, and Python then installs no
    KeyboardInterrupt handler: the Ctrl-C under test would be lost and the guest test would
    simply pass."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt(test: str, sig: int, to_group: bool, times: int, ready, tmp_path: Path):
    """Start pytest on ``test``, wait for ``ready(pid)``, signal it; returns (pid, rc, output)."""
    log = tmp_path / "pytest.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KVMTEST_") and k != "PYTEST_ADDOPTS"}
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True,  # its own process group, like a terminal's
                                preexec_fn=_take_ctrl_c)
    try:
        wait_for(lambda: ready(proc.pid) or proc.poll() is not None, "guests up", timeout=240)
        assert proc.poll() is None, f"pytest ended before the guests were up:\n{log.read_text()}"
        time.sleep(1)
        for i in range(times):
            if i:
                time.sleep(0.5)  # the impatient second Ctrl-C lands in the cleanup
            if to_group:
                os.killpg(proc.pid, sig)  # Ctrl-C: the whole foreground group gets it
            else:
                proc.send_signal(sig)
        rc = proc.wait(timeout=180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.pid, rc, log.read_text()


def interrupted_after_cleanup(rc: int, out: str, times: int) -> bool:
    """pytest's "interrupted" exit status (2) after its KeyboardInterrupt report. A second
    Ctrl-C that comes after the cleanup and the final summary line (``... in 1.76s``), while
    the interpreter shuts down (its handlers are the default ones again), ends the process
    by SIGINT instead: nothing is lost then, and the checks below see what was left."""
    if "KeyboardInterrupt" not in out:
        return False
    if rc == 2:
        return True
    finished = re.search(r" in [0-9.]+s( \([0-9:]+\))?( =+)?\s*$", out) is not None
    return times > 1 and rc == -signal.SIGINT and finished


CASES = [("ctrl-c", signal.SIGINT, True, 1), ("ctrl-c twice", signal.SIGINT, True, 2),
         ("sigterm", signal.SIGTERM, False, 1)]


@pytest.mark.parametrize("how, sig, to_group, times", CASES, ids=[c[0] for c in CASES])
def test_interrupted_qemu_test_leaves_no_guest_or_namespace(tmp_path, tiny_guest, how, sig, to_group, times):
    pid, rc, out = _interrupt(QEMU_TEST, sig, to_group, times,
                              lambda p: len(_qemus(p)) >= 2 and _namespaces(p), tmp_path)
    assert interrupted_after_cleanup(rc, out, times), out
    assert _qemus(pid) == [], out
    assert _namespaces(pid) == [], out


@pytest.mark.libvirt
@pytest.mark.skipif(_libvirt_missing() is not None, reason=str(_libvirt_missing()))
@pytest.mark.parametrize("how, sig, to_group, times", CASES, ids=[c[0] for c in CASES])
def test_interrupted_libvirt_test_leaves_no_domain_bridge_or_daemon(tmp_path, tiny_guest, how, sig,
                                                                     to_group, times):
    daemon_before = _daemon_answers()
    pid, rc, out = _interrupt(LIBVIRT_TEST, sig, to_group, times,
                              lambda p: len(_qemus(p)) >= 1 and _bridges(p), tmp_path)
    assert interrupted_after_cleanup(rc, out, times), out
    assert _qemus(pid) == [], out
    assert _bridges(pid) == [], out
    assert _domains(pid) == [], out
    if daemon_before:
        return  # not ours to stop
    # The daemons that pytest started must be gone, unless another session shares them now.
    lock_path = Path("/run/libvirt/kvmtest-pytest.lock")
    with open(lock_path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pytest.skip("another pytest session uses libvirtd now; cannot check it was stopped")
        assert not _daemon_answers(), f"libvirtd still answers after the interrupted run:\n{out}"
        for name in ("kvmtest-libvirtd.pid", "kvmtest-virtlogd.pid"):
            assert not (Path("/run/libvirt") / name).exists(), name
