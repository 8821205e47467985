"""Domain XML generation and naming: pure functions, no daemon needed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvmtest.vm.libvirt_conn import bridge_name, domain_name
from kvmtest.vm.libvirt_xml import (
    DiskSpec,
    DomainSpec,
    NicSpec,
    domain_xml,
    parse_macs,
    parse_metadata,
    parse_serial_pty,
)


def _spec(**kw) -> DomainSpec:
    base = dict(
        name="kvmtest-j-q-vm1",
        domain_type="qemu",
        memory_mib=256,
        vcpus=2,
        kernel="/img/vmlinuz",
        initrd="/img/initrd.gz",
        cmdline="console=ttyS0 quiet",
        disks=[DiskSpec("/w/vm1-image1.qcow2"), DiskSpec("/w/vm1-data.qcow2", fmt="raw", bus="virtio")],
        nics=[NicSpec("02:aa:00:00:00:01"), NicSpec("02:aa:00:00:00:02", model="e1000", bridge="kvt0123456789")],
        serial_log="/logs/serial-vm1.log",
        metadata={"job": "j", "queue": "q", "vm": "vm1"},
    )
    base.update(kw)
    return DomainSpec(**base)


def test_domain_xml_carries_every_param():
    root = ET.fromstring(domain_xml(_spec()))
    assert root.get("type") == "qemu"
    assert root.findtext("name") == "kvmtest-j-q-vm1"
    assert root.find("memory").text == "256" and root.find("memory").get("unit") == "MiB"
    assert root.findtext("vcpu") == "2"
    assert root.findtext("os/kernel") == "/img/vmlinuz"
    assert root.findtext("os/initrd") == "/img/initrd.gz"
    assert root.findtext("os/cmdline") == "console=ttyS0 quiet"
    assert root.find("features/acpi") is not None
    assert root.findtext("on_poweroff") == "destroy"
    disks = root.findall("devices/disk")
    assert [d.find("target").get("dev") for d in disks] == ["vda", "vdb"]
    assert [d.find("driver").get("type") for d in disks] == ["qcow2", "raw"]
    ifaces = root.findall("devices/interface")
    assert [i.get("type") for i in ifaces] == ["user", "bridge"]
    assert ifaces[1].find("source").get("bridge") == "kvt0123456789"
    assert [i.find("model").get("type") for i in ifaces] == ["virtio", "e1000"]
    assert root.find("devices/serial").get("type") == "pty"
    assert root.find("devices/serial/log").get("file") == "/logs/serial-vm1.log"


def test_parse_helpers_round_trip():
    xml = domain_xml(_spec())
    assert parse_macs(xml) == ["02:aa:00:00:00:01", "02:aa:00:00:00:02"]
    assert parse_metadata(xml) == {"job": "j", "queue": "q", "vm": "vm1"}
    assert parse_serial_pty(xml) is None  # only a running domain has a pty path
    root = ET.fromstring(xml)
    ET.SubElement(root.find("devices/serial"), "source", path="/dev/pts/7")
    assert parse_serial_pty(ET.tostring(root, encoding="unicode")) == "/dev/pts/7"


def test_foreign_domain_has_no_metadata():
    assert parse_metadata("<domain type='kvm'><name>someone-else</name></domain>") == {}


def test_hostile_param_text_stays_text():
    nasty = "console=ttyS0 </cmdline><devices><disk/></devices> & 'x\""
    root = ET.fromstring(domain_xml(_spec(cmdline=nasty)))
    assert root.findtext("os/cmdline") == nasty
    assert len(root.findall("devices/disk")) == 2


def test_no_kernel_boots_from_disk():
    root = ET.fromstring(domain_xml(_spec(kernel=None, initrd=None, cmdline="")))
    assert root.find("os/kernel") is None
    assert root.find("os/boot").get("dev") == "hd"


@pytest.mark.parametrize(
    "kw, needle",
    [
        ({"domain_type": "xen"}, "domain type"),
        ({"memory_mib": 0}, "memory"),
        ({"vcpus": 0}, "vcpus"),
        ({"name": "a/b"}, "domain name"),
        ({"kernel": None}, "initrd given without kernel"),
        ({"nics": [NicSpec("02:00:00:00:00:01", model="bogus-nic")]}, "nic_model"),
        ({"disks": [DiskSpec("/x", bus="floppy")]}, "drive_format"),
    ],
)
def test_invalid_specs_are_refused_with_the_field_named(kw, needle):
    with pytest.raises(ValueError, match=needle):
        domain_xml(_spec(**kw))


def test_cpu_model_host_is_passthrough():
    root = ET.fromstring(domain_xml(_spec(domain_type="kvm", cpu_model="host")))
    assert root.find("cpu").get("mode") == "host-passthrough"
    root = ET.fromstring(domain_xml(_spec(cpu_model="qemu64")))
    assert root.findtext("cpu/model") == "qemu64"


def test_many_disks_get_distinct_targets():
    disks = [DiskSpec(f"/d{i}") for i in range(30)]
    root = ET.fromstring(domain_xml(_spec(disks=disks)))
    targets = [d.find("target").get("dev") for d in root.findall("devices/disk")]
    assert len(set(targets)) == 30
    assert targets[25:28] == ["vdz", "vdaa", "vdab"]


_part = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), min_size=1, max_size=12)


@given(_part, _part, _part, _part, _part, _part)
def test_domain_names_never_collide_and_are_safe(j1, q1, v1, j2, q2, v2):
    a, b = domain_name(j1, q1, v1), domain_name(j2, q2, v2)
    assert "/" not in a and a.startswith("kvmtest-")
    if (j1, q1, v1) != (j2, q2, v2):
        assert a != b


@given(_part, _part, _part)
def test_bridge_names_fit_ifnamsiz(job, queue, netdst):
    name = bridge_name(job, queue, netdst)
    assert len(name) <= 15 and name.startswith("kvt") and name.isalnum()
    assert bridge_name(job, queue + "x", netdst) != name


# --- LibvirtVM.make_spec: params -> DomainSpec, no daemon (overlays are real qemu-img files) ---

libvirt_vm = pytest.importorskip("kvmtest.vm.libvirt_vm")


def _vm(tmp_path, **overrides):
    from kvmtest.plan.model import Address
    from tests.vm.guestkit import context, tiny_params

    params = tiny_params(vm_type="libvirt", **overrides)
    addr = Address("vm1", "nic1", "02:99:00:00:04:01", "10.99.4.1")
    test = context(tmp_path, params, "unit-job", addresses=[addr])
    return libvirt_vm.LibvirtVM("vm1", params, test)


def test_make_spec_follows_the_qemu_backend_params(tmp_path, tiny_guest):
    vm = _vm(tmp_path, mem="320", smp="2", accel="tcg")
    spec = vm.make_spec()
    assert spec.domain_type == "qemu" and spec.cpu_model is None
    assert (spec.memory_mib, spec.vcpus) == (320, 2)
    assert spec.kernel.endswith("images/tiny/vmlinuz") and spec.initrd.endswith("images/tiny/initrd.img")
    assert "kt.net=02:99:00:00:04:01,10.99.4.1/24" in spec.cmdline and "kt.name=vm1" in spec.cmdline
    assert [n.mac for n in spec.nics] == ["02:99:00:00:04:01"] and spec.nics[0].bridge is None
    (disk,) = spec.disks
    assert disk.path == str((tmp_path / "work" / "vm1-data-overlay.qcow2").resolve())
    assert Path(disk.path).is_file() and disk.fmt == "qcow2"
    assert spec.metadata == {"job": "unit-job", "queue": "q1", "vm": "vm1"}
    vm.destroy()  # never started: only removes the overlay, needs no daemon
    assert not Path(disk.path).exists()


def test_accel_kvm_means_a_kvm_domain_with_the_host_cpu(tmp_path, tiny_guest):
    spec = _vm(tmp_path, accel="kvm").make_spec()
    assert spec.domain_type == "kvm" and spec.cpu_model == "host"
    root = ET.fromstring(domain_xml(spec))
    assert root.get("type") == "kvm" and root.find("cpu").get("mode") == "host-passthrough"


@pytest.mark.parametrize(
    "kw, needle",
    [
        ({"nic_mode": "tap"}, "needs netdst"),
        ({"nic_mode": "vde"}, "is not user or tap"),
        ({"accel": "hvf"}, "accel"),
    ],
)
def test_bad_params_are_vm_errors(tmp_path, tiny_guest, kw, needle):
    from kvmtest.vm.errors import VMError

    with pytest.raises(VMError, match=needle):
        _vm(tmp_path, **kw).make_spec()
