"""The libvirt backend against a real libvirtd and real tiny guests under TCG.

The session fixture starts virtlogd/libvirtd with scripts/libvirtd.sh when none
answers and stops them again afterwards (only if it started them). The module
finalizer proves that no kvmtest domain, qemu process or bridge of this pytest
run is left behind.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from kvmtest.plan.model import Address
from kvmtest.testtypes import execute
from kvmtest.testtypes.errors import TestError
from kvmtest.vm.base import make_vm
from kvmtest.vm.env import Env
from kvmtest.vm.errors import VMDeadError
from kvmtest.vm.reaper import kill_guests
from tests.interrupts import deferred_stop_signals
from tests.vm.guestkit import JOB_PREFIX, context, have_guest_tools, job_id, tiny_params
from tests.waiting import wait_for

try:
    import libvirt
except ImportError:  # pragma: no cover - depends on the machine
    libvirt = None


def _why_skip():
    if libvirt is None:
        return "libvirt-python not installed (pip install libvirt-python)"
    if not shutil.which("libvirtd") or not shutil.which("virsh"):
        return "libvirtd not installed (scripts/sysdeps.sh libvirt)"
    return have_guest_tools()


pytestmark = [
    pytest.mark.guest,
    pytest.mark.libvirt,
    pytest.mark.skipif(_why_skip() is not None, reason=str(_why_skip())),
]

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "libvirtd.sh"
URI = "qemu:///system"
LOCK = Path("/run/libvirt/kvmtest-pytest.lock")
MARK = Path("/run/libvirt/kvmtest-pytest-started")  # a fixture (not a person) started the daemon


def _script(action: str) -> str:
    # The daemon must not inherit a KVMTEST_JOB mark: kill_guests(job) would then kill libvirtd.
    env = {k: v for k, v in os.environ.items() if not k.startswith("KVMTEST_")}
    res = subprocess.run([str(SCRIPT), action], capture_output=True, text=True, env=env, check=False,
                         start_new_session=True)
    assert res.returncode == 0, f"libvirtd.sh {action} failed: {res.stderr}"
    return res.stdout.strip()


def _our_domains():
    conn = libvirt.open(URI)
    try:
        from kvmtest.vm.libvirt_xml import parse_metadata

        out = []
        for dom in conn.listAllDomains(0):
            if parse_metadata(dom.XMLDesc(0)).get("job", "").startswith(JOB_PREFIX):
                out.append(dom.name())
        return out
    finally:
        conn.close()


def _our_qemus():
    pids = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "qemu-system" in cmd and f"guest=kvmtest-{JOB_PREFIX.replace('-', '_')}" in cmd:
            pids.append(proc.pid)
    return pids


def _our_bridges():
    """Bridges a test saw, and any bridge labelled with one of this pytest's jobs."""
    from kvmtest.vm.libvirt_conn import list_bridges

    ours = {b for job in _bridge_jobs() if job.startswith(JOB_PREFIX) for b in list_bridges(job)}
    return sorted(ours | {b for b in list_bridges() if b in _BRIDGES_SEEN})


_BRIDGES_SEEN: set = set()


@pytest.fixture(scope="module", autouse=True)
def libvirtd(tiny_guest):
    """A running libvirtd for the module; leaves the machine as it found it.

    Start and cleanup run with stop signals deferred (tests/interrupts.py): a Ctrl-C
    while the daemon starts must not lose the "a fixture started it" mark, and one
    during cleanup must not leave a domain, a bridge or the daemons behind.
    """
    from kvmtest.vm.libvirt_conn import close_all

    # Several pytest sessions (other engineers, CI) may share the daemon: each holds a shared
    # lock while it uses it; the last one out stops it, and only if a fixture started it.
    with deferred_stop_signals():
        LOCK.parent.mkdir(parents=True, exist_ok=True)
        lock = open(LOCK, "a")  # noqa: SIM115 - held for the whole module
        fcntl.flock(lock, fcntl.LOCK_SH)
        if _script("start") == "started":
            MARK.touch()
    yield
    with deferred_stop_signals():
        # Whatever a failed or interrupted test left: remove it, then prove nothing is left.
        leaked = _remove_our_leftovers()
        left_qemu = _our_qemus()
        left_br = _our_bridges()
        virsh = subprocess.run(["virsh", "-c", URI, "list", "--all", "--name"], capture_output=True,
                               text=True, check=True).stdout.split()
        left_virsh = [n for n in virsh if n.startswith("kvmtest-" + JOB_PREFIX.replace("-", "_"))]
        close_all()
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if MARK.exists():
                MARK.unlink()
                _script("stop")
        except BlockingIOError:
            pass  # another session still uses the daemon; it stops it when done
        finally:
            lock.close()
    assert not leaked, f"domains or bridges left after the tests by jobs {leaked}"
    assert not left_qemu, f"qemu processes left: {left_qemu}"
    assert not left_br, f"bridges left: {left_br}"
    assert not left_virsh, f"virsh list --all still shows {left_virsh}"


def _remove_our_leftovers():
    """Destroy the domains and remove the bridges of this pytest's jobs; returns those jobs."""
    from kvmtest.vm.libvirt_conn import cleanup_domains, remove_bridges
    from kvmtest.vm.libvirt_xml import parse_metadata

    conn = libvirt.open(URI)
    jobs = set()
    try:
        for dom in conn.listAllDomains(0):
            job = parse_metadata(dom.XMLDesc(0)).get("job", "")
            if job.startswith(JOB_PREFIX):
                jobs.add(job)
    finally:
        conn.close()
    jobs |= {job for job in _bridge_jobs() if job.startswith(JOB_PREFIX)}
    for job in sorted(jobs):
        cleanup_domains(job)
        remove_bridges(job)
    return sorted(jobs)


def _bridge_jobs():
    """Jobs named in the aliases of kvmtest's bridges."""
    import json

    from kvmtest.vm.libvirt_conn import _ALIAS_PREFIX

    res = subprocess.run(["ip", "-j", "link", "show", "type", "bridge"], capture_output=True, text=True)
    jobs = set()
    for link in json.loads(res.stdout or "[]"):
        alias = link.get("ifalias", "")
        if alias.startswith(_ALIAS_PREFIX):
            try:
                jobs.add(json.loads(alias[len(_ALIAS_PREFIX):])[0])
            except (ValueError, IndexError):
                continue
    return jobs


@pytest.fixture
def job():
    jid = job_id("lv")
    yield jid
    kill_guests(jid)  # the runner's queue-end path; the libvirt kill hook removes domains and bridges


def lv_params(**kw: str):
    return tiny_params(**{"vm_type": "libvirt", "libvirt_uri": URI, **kw})


def _domain(name: str):
    conn = libvirt.open(URI)
    try:
        return conn.lookupByName(name)
    except libvirt.libvirtError:
        return None


def test_boot_through_libvirt_shows_planned_mac(tmp_path, job):
    addr = Address("vm1", "nic1", "02:99:00:00:03:05", "10.99.3.5")
    test = context(tmp_path, lv_params(type="boot"), job, addresses=[addr])
    execute(test, Env.load(tmp_path / "env"))
    console = (test.logdir / "console-vm1.log").read_text()
    assert "KVMTEST-NIC eth0 mac=02:99:00:00:03:05 ip=10.99.3.5/24" in console
    assert "KVMTEST-DISK vda KVMTEST-DATA-DISK v1" in console  # the overlay on the data disk
    xml = (test.logdir / "libvirt-vm1.xml").read_text()
    assert "02:99:00:00:03:05" in xml and 'type="qemu"' in xml  # TCG: accel = tcg
    assert (test.logdir / "serial-vm1.log").read_text().count("KVMTEST-READY vm1") == 1
    # kill_vm defaults to yes: the domain is destroyed and undefined, the overlay removed.
    assert _our_domains() == []
    assert not list((tmp_path / "work").glob("*overlay*"))


def test_shell_through_libvirt(tmp_path, job):
    addr = Address("vm1", "nic1", "02:99:00:00:03:06", "10.99.3.6")
    params = lv_params(type="shell", guest_cmd="cat /sys/class/net/eth0/address; nproc; free -m | head -2",
                       expected_output=r"^${mac}\n2\n", smp="2")
    execute(context(tmp_path, params, job, addresses=[addr]), Env.load(tmp_path / "env"))


def test_ping_between_two_domains_on_an_isolated_bridge(tmp_path, job):
    addrs = [Address("vm1", "nic1", "02:99:00:00:03:11", "10.99.3.11"),
             Address("vm2", "nic1", "02:99:00:00:03:12", "10.99.3.12")]
    params = lv_params(type="ping", vms="vm1 vm2", nic_mode="tap", netdst="br0", ping_count="2",
                       kill_vm="no")
    test = context(tmp_path, params, job, addresses=addrs)
    env = Env.load(tmp_path / "env")
    execute(test, env)
    from kvmtest.vm.libvirt_conn import bridge_name, list_bridges

    br = bridge_name(job, "q1", "br0")
    _BRIDGES_SEEN.add(br)
    assert list_bridges(job, "q1") == [br]
    addr_out = subprocess.run(["ip", "-o", "addr", "show", "dev", br], capture_output=True, text=True).stdout
    assert addr_out.strip() == "", f"the isolated bridge must carry no address: {addr_out}"
    # kill_vm = no: both domains still run; the queue-end kill removes them and the bridge.
    assert len(_our_domains()) == 2
    assert kill_guests(job, "q1", signal.SIGTERM) == 2
    assert _our_domains() == [] and list_bridges(job) == []
    assert not _our_qemus()


def test_kept_guest_is_reattached_from_the_env_file(tmp_path, job):
    params = lv_params(type="shell", guest_cmd="echo first > /tmp/mark", kill_vm="no")
    execute(context(tmp_path, params, job, name="t1"), Env.load(tmp_path / "env"))
    rec = Env.load(tmp_path / "env").get_guest("vm1")
    assert rec is not None and rec.vm_type == "libvirt" and rec.extra["uuid"]
    # A fresh Env (as in a new process): the guest is found by UUID and its pty reopened.
    params2 = lv_params(type="shell", guest_cmd="cat /tmp/mark", expected_output="^first$")
    execute(context(tmp_path, params2, job, name="t2"), Env.load(tmp_path / "env"))
    assert _our_domains() == []


def test_guest_poweroff_ends_the_domain(tmp_path, job):
    test = context(tmp_path, lv_params(), job)
    vm = make_vm("vm1", test.params, test)
    try:
        vm.create()
        session = vm.wait_for_login(60)
        session.sendline("poweroff -f")
        deadline = time.monotonic() + 60
        while vm.is_alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not vm.is_alive(), "ACPI poweroff did not end the domain"
        assert "guest powered off" in vm.death_reason()
    finally:
        vm.destroy(gracefully=False)
    assert _domain(vm.domain) is None  # undefined, not just stopped


def test_domain_destroyed_under_a_test_is_a_clear_error(tmp_path, job):
    test = context(tmp_path, lv_params(), job)
    vm = make_vm("vm1", test.params, test)
    try:
        vm.create()
        session = vm.wait_for_login(60)
        threading.Timer(1.0, lambda: _domain(vm.domain).destroy()).start()
        with pytest.raises(VMDeadError, match=r"destroyed|crashed"):
            session.cmd("sleep 20", 40)
    finally:
        vm.destroy(gracefully=False)


def test_xml_refused_is_one_clear_error(tmp_path, job):
    params = lv_params(type="boot", qemu_binary="/nonexistent/qemu-system-x86_64")
    test = context(tmp_path, params, job)
    with pytest.raises(TestError) as info:
        execute(test, Env.load(tmp_path / "env"))
    msg = str(info.value)
    assert "refused the domain XML" in msg and "/nonexistent/qemu-system-x86_64" in msg and "\n" not in msg
    assert Path(test.logdir / "libvirt-vm1.xml").exists()
    assert _our_domains() == []


@pytest.mark.parametrize(
    "uri, needle, hint",
    [
        # No daemon listens on this socket: exactly what "libvirtd is not running" looks like.
        ("qemu:///system?socket=/nonexistent/libvirt-sock", "Failed to connect socket", "libvirtd.sh start"),
        ("nosuchdriver:///nowhere", "no connection driver", "check the libvirt_uri"),
        ("qemu:///bogus", "unexpected qemu URI path", "check the libvirt_uri"),
    ],
)
def test_connection_failures_are_one_clear_error(tmp_path, job, uri, needle, hint):
    test = context(tmp_path, lv_params(type="boot", libvirt_uri=uri), job)
    with pytest.raises(TestError) as info:
        execute(test, Env.load(tmp_path / "env"))
    msg = str(info.value)
    assert msg.startswith(f"libvirt: cannot connect to {uri}: ") and needle in msg
    assert hint in msg and "\n" not in msg


# --- the runner as a real process: interruption and resume must not leak domains ------------


def _job_domains(job: str):
    """{name: uuid} of the domains libvirt holds for ``job``."""
    from kvmtest.vm.libvirt_conn import find_domains

    conn = libvirt.open(URI)
    try:
        return {dom.name(): dom.UUIDString() for dom, _m in find_domains(conn, job)}
    finally:
        conn.close()


def _runner(plan: Path, results: Path, *extra: str) -> subprocess.Popen:
    from tests.run.helpers import runner_cmd, runner_env

    return subprocess.Popen(runner_cmd("--plan", str(plan), "--results", str(results), *extra),
                            env=runner_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _lv_test(name: str, queue: str, **kw: str):
    from tests.run.helpers import ptest

    return ptest(name, queue, **lv_params(**kw))


def test_runner_sigterm_destroys_every_domain_and_bridge(tmp_path, job):
    from kvmtest.vm.libvirt_conn import list_bridges
    from tests.run.helpers import queue, write_plan

    plan = write_plan(tmp_path / "plan.json", [
        queue("q1", _lv_test("a.boot", "q1", type="boot")),
        queue("q2", _lv_test("b.ping", "q2", type="ping", vms="vm1 vm2", nic_mode="tap", netdst="br0")),
    ])
    proc = _runner(plan, tmp_path / "r", "--job-id", job)
    try:
        wait_for(lambda: len(_job_domains(job)) == 3, "three domains to exist", 90.0, 0.1)
        assert len(list_bridges(job, "q2")) == 1
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "SIGTERM received" in err, out + err
    assert _job_domains(job) == {}
    assert list_bridges(job) == []


def test_after_sigkill_a_fresh_process_removes_the_domain_and_resume_passes(tmp_path, job):
    from tests.run.helpers import queue, run_runner, write_plan

    plan = write_plan(tmp_path / "plan.json", [queue("q1", _lv_test("a.boot", "q1", type="boot"))])
    r = tmp_path / "r"
    proc = _runner(plan, r, "--job-id", job)
    try:
        wait_for(lambda: len(_job_domains(job)) == 1, "the domain to exist", 90.0, 0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    left = _job_domains(job)
    assert len(left) == 1  # a killed runner cannot clean up: libvirtd keeps the guest
    # What --resume does first, in a fresh process that never started a libvirt guest:
    # kill_guests must still find the libvirt hook and remove the domain.
    code = ("import sys; from kvmtest.vm.reaper import kill_guests; n = kill_guests(sys.argv[1]); "
            "print(n, 'kvmtest.vm.libvirt_conn' in sys.modules)")
    from tests.run.helpers import runner_env

    fresh = subprocess.run([sys.executable, "-c", code, job], env=runner_env(), capture_output=True,
                           text=True, timeout=60, check=False)
    assert fresh.stdout.split() == ["1", "True"], fresh.stdout + fresh.stderr
    assert _job_domains(job) == {}
    res = run_runner("--results", str(r), "--resume", timeout=180)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "PASS" in res.stdout
    assert _job_domains(job) == {}
    assert not _our_qemus()
