"""object_params, planned NICs and the qemu argv, without booting anything."""

from __future__ import annotations

import pytest

from kvmtest.plan.model import Address
from kvmtest.vm.base import backend, default_mac, make_vm, plan_nics
from kvmtest.vm.errors import VMError
from kvmtest.vm.netns import IFNAMSIZ, check_ifname, ns_name
from kvmtest.vm.params import get_bool, object_params, params_digest
from kvmtest.vm.qemu import QemuVM, socket_dir, tap_name
from tests.vm.guestkit import context, tiny_params


def test_object_params_suffix_overrides():
    p = {"mem": "256", "mem_vm2": "512", "nic_model": "virtio", "nic_model_nic2": "e1000"}
    assert object_params(p, "vm2")["mem"] == "512"
    assert object_params(p, "vm1")["mem"] == "256"
    assert object_params(object_params(p, "vm1"), "nic2")["nic_model"] == "e1000"


def test_get_bool_rejects_garbage():
    assert get_bool({"a": "yes"}, "a") and not get_bool({"a": "no"}, "a", True)
    with pytest.raises(ValueError, match="not a yes/no"):
        get_bool({"a": "maybe"}, "a")


def test_planned_addresses_win_over_defaults(tmp_path):
    params = {"nics": "nic1 nic2", "vms": "vm1"}
    t = context(tmp_path, params, "j", addresses=[Address("vm1", "nic1", "02:AA:00:00:00:01", "10.99.0.9")])
    nics = plan_nics("vm1", params, t)
    assert nics[0].mac == "02:aa:00:00:00:01" and nics[0].ip == "10.99.0.9/24"
    assert nics[1].mac == default_mac("j", "q1", "vm1", "nic2") and nics[1].ip is None
    first_octet = int(nics[1].mac.split(":")[0], 16)
    assert first_octet & 0x02 and not first_octet & 0x01  # locally administered unicast


def test_digest_changes_with_vm_params_only():
    base = tiny_params()
    d = params_digest(base, "vm1", [])
    assert params_digest(dict(base, guest_cmd="x"), "vm1", []) == d
    assert params_digest(dict(base, mem_vm1="512"), "vm1", []) != d
    assert params_digest(base, "vm1", [{"mac": "02:00:00:00:00:01"}]) != d


def test_argv_no_nics_and_no_shell(tmp_path):
    params = tiny_params(nics="", images="")
    vm = make_vm("vm1", params, context(tmp_path, params, "j"))
    assert isinstance(vm, QemuVM)
    argv = vm.make_argv()
    assert argv[argv.index("-nic") + 1] == "none"
    assert argv[argv.index("-accel") + 1] == "tcg"
    assert argv[argv.index("-m") + 1] == "256"
    assert all(isinstance(a, str) for a in argv)
    assert "server=on,wait=on" in " ".join(argv)


def test_argv_nics_and_overlay(tmp_path):
    params = tiny_params(nics="nic1 nic2", nic_model_nic2="e1000", mem_vm1="384")
    t = context(tmp_path, params, "j", addresses=[Address("vm1", "nic1", "02:00:00:00:00:07", "10.99.0.7")])
    vm = make_vm("vm1", params, t)
    argv = vm.make_argv()
    joined = " ".join(argv)
    assert "virtio-net-pci,netdev=net-nic1,mac=02:00:00:00:00:07" in joined
    assert "e1000,netdev=net-nic2" in joined
    assert "kt.net=02:00:00:00:00:07,10.99.0.7/24+" in joined
    assert argv[argv.index("-m") + 1] == "384"
    overlay = tmp_path / "work" / "vm1-data-overlay.qcow2"
    assert overlay.is_file() and f"filename={overlay}" in joined


def test_missing_image_is_clear(tmp_path):
    params = tiny_params(image_name_data="images/nope")
    vm = make_vm("vm1", params, context(tmp_path, params, "j"))
    with pytest.raises(VMError, match="does not exist"):
        vm.make_argv()


def test_unknown_backend_lists_known():
    with pytest.raises(VMError, match="unknown vm_type 'xen'.*qemu"):
        backend("xen")


def test_short_names():
    assert len(tap_name("a-very-long-vm-name", "nic12")) <= IFNAMSIZ
    assert tap_name("vm1", "nic1") != tap_name("vm2", "nic1")
    assert ns_name("job1", "q2") == "kvmtest-job1-q2"
    assert ns_name("job-1", "q-2").startswith("kvmtest-job_1-q_2_")
    assert len({ns_name("j", q) for q in ("q-2", "q_2", "q 2")}) == 3  # injective
    with pytest.raises(ValueError):
        check_ifname("x" * 16)


def test_socket_dir_stays_short(tmp_path):
    deep = tmp_path / ("d" * 90)
    assert len(str(socket_dir(deep) / "vm1.console")) < 108
