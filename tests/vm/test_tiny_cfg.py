"""cfg/tiny-guest.cfg and samples/demo through the real config language and planner."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kvmtest.paths import tiny_guest_dir
from kvmtest.vm.params import resolve_path
from kvmtest.vm.tinyguest import INIT, Cpio

DEMO = Path(__file__).resolve().parents[2] / "samples" / "demo" / "kvm_hosts.cfg"


@pytest.fixture(scope="module")
def plan():
    import kvmtest

    return kvmtest.load([str(DEMO)], test_set="smoke", local_host="localhost")


def test_demo_plan_two_queues_own_ranges(plan):
    queues = plan.for_host("localhost")
    assert len(queues) == 2
    macs = [{a.mac for t in q.tests for a in t.addresses} for q in queues]
    assert macs[0] and macs[1] and not macs[0] & macs[1]
    for m in macs[0] | macs[1]:
        assert int(m.split(":")[0], 16) & 0x02  # locally administered
    types = [t.params["type"] for q in queues for t in q.tests]
    assert len(types) >= 4 and "ping" in types and types.count("shell") >= 2


def test_tiny_params_survive_the_config_language(plan):
    shell = next(t for t in plan.tests if t.shortname.startswith("shell_mac") or "shell_mac" in t.name)
    p = shell.params
    assert p["expected_output"] == "^${mac}$"
    assert re.search(p["shell_prompt"], "[kt@vm1]# ")
    assert re.search(p["login_prompt"], "vm1 login: ")
    assert resolve_path(p["kernel"], p) == (tiny_guest_dir() / "vmlinuz").resolve()
    ping = next(t for t in plan.tests if t.params["type"] == "ping")
    assert ping.params["nic_mode"] == "tap" and len(ping.addresses) == 2


def test_cpio_layout():
    c = Cpio()
    c.file("init", INIT.encode(), 0o755)
    c.chardev("dev/console", 5, 1)
    data = c.finish()
    assert data.startswith(b"070701") and len(data) % 512 == 0
    assert b"TRAILER!!!" in data and b"dev/console\0" in data and b"KVMTEST-READY" in data
