"""Each guest test type against real tiny guests under TCG (about 5 s per boot)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from kvmtest.plan.model import Address
from kvmtest.testtypes import execute
from kvmtest.testtypes.errors import TestFail
from kvmtest.vm.env import Env
from tests.vm.guestkit import (
    cleanup_job,
    context,
    have_guest_tools,
    job_id,
    leftover_guests,
    tiny_params,
)

pytestmark = [
    pytest.mark.guest,
    pytest.mark.skipif(have_guest_tools() is not None, reason=str(have_guest_tools())),
]

@pytest.fixture(autouse=True)
def _tiny(tiny_guest):
    """Every test here boots the tiny guest (tests/conftest.py builds it or skips)."""


@pytest.fixture
def job():
    jid = job_id("tt")
    yield jid
    cleanup_job(jid)


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_boot_shows_planned_mac_and_ip(tmp_path, job):
    addr = Address("vm1", "nic1", "02:99:00:00:01:05", "10.99.1.5")
    params = tiny_params(type="boot")
    test = context(tmp_path, params, job, addresses=[addr])
    execute(test, Env.load(tmp_path / "env"))
    log = (test.logdir / "console-vm1.log").read_text()
    assert re.search(r"KVMTEST-NIC eth0 mac=02:99:00:00:01:05 ip=10.99.1.5/24", log)
    assert "KVMTEST-DISK vda KVMTEST-DATA-DISK v1" in log
    cmdline = (test.logdir / "qemu-vm1.cmdline").read_text()
    assert "-accel tcg" in cmdline and "mac=02:99:00:00:01:05" in cmdline
    assert test.accel == "tcg"  # what the runner records in the result's accel
    assert not leftover_guests()  # kill_vm defaults to yes
    assert Env.load(tmp_path / "env").guests == {}


def test_shell_writes_only_the_overlay(tmp_path, job, tiny_guest):
    data = Path(tiny_guest["data"])
    before = sha(data)
    addr = Address("vm1", "nic1", "02:99:00:00:01:06", "10.99.1.6")
    params = tiny_params(
        type="shell",
        guest_cmd="echo CLOBBER | dd of=/dev/vda conv=fsync 2>/dev/null; head -c 7 /dev/vda; echo; "
                  "cat /sys/class/net/eth0/address; ip -4 -o addr show dev eth0",
        expected_output=r"^CLOBBER\n${mac}\n.*inet ${ip}/24",
    )
    execute(context(tmp_path, params, job, addresses=[addr]), Env.load(tmp_path / "env"))
    assert sha(data) == before  # the base image is never written


def test_shell_wrong_status_fails(tmp_path, job):
    params = tiny_params(type="shell", guest_cmd="exit_code() { return 3; }; exit_code", expected_status="0")
    with pytest.raises(TestFail, match="exited 3, expected 0"):
        execute(context(tmp_path, params, job), Env.load(tmp_path / "env"))


def test_address_differing_from_plan_fails(tmp_path, job):
    # The guest is not told its IP, so it differs from the plan: the test must notice.
    addr = Address("vm1", "nic1", "02:99:00:00:01:07", "10.99.1.7")
    params = tiny_params(type="boot", guest_net_cmdline="no")
    with pytest.raises(TestFail, match=r"eth0 has IP none, the plan says 10\.99\.1\.7"):
        execute(context(tmp_path, params, job, addresses=[addr]), Env.load(tmp_path / "env"))


def test_reboot(tmp_path, job):
    addr = Address("vm1", "nic1", "02:99:00:00:01:08", "10.99.1.8")
    params = tiny_params(type="reboot")
    test = context(tmp_path, params, job, addresses=[addr])
    execute(test, Env.load(tmp_path / "env"))
    log = (test.logdir / "console-vm1.log").read_text()
    assert log.count("KVMTEST-READY vm1") == 2


@pytest.mark.netns
def test_ping_over_tap_in_namespace(tmp_path, job):
    from kvmtest.vm import netns

    addrs = [Address("vm1", "nic1", "02:99:00:00:02:01", "10.99.2.1"),
             Address("vm2", "nic1", "02:99:00:00:02:02", "10.99.2.2")]
    params = tiny_params(type="ping", vms="vm1 vm2", nic_mode="tap", netdst="ktbr0", ping_count="2")
    test = context(tmp_path, params, job, addresses=addrs)
    execute(test, Env.load(tmp_path / "env"))
    for vm, a in (("vm1", addrs[0]), ("vm2", addrs[1])):
        log = (test.logdir / f"console-{vm}.log").read_text()
        assert f"mac={a.mac} ip={a.ip}/24" in log
    cmd = (test.logdir / "qemu-vm1.cmdline").read_text()
    assert cmd.startswith(f"ip netns exec {netns.ns_name(job, 'q1')} ")
    assert netns.list_namespaces(job) == [netns.ns_name(job, "q1")]
    cleanup_job(job)  # queue end
    assert netns.list_namespaces(job) == []


def test_stop_flag_interrupts_boot(tmp_path, job):
    import threading

    from kvmtest.testtypes.errors import TestError

    params = tiny_params(type="boot")
    test = context(tmp_path, params, job)
    threading.Timer(1.0, test.stop.set).start()
    with pytest.raises(TestError, match="stopped while waiting for login"):
        execute(test, Env.load(tmp_path / "env"))
    assert not leftover_guests()
