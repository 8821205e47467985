"""Domain XML for the libvirt backend, built with ``xml.etree`` from a plain spec.

Kept apart from the connection code so the XML can be unit-tested without a
daemon: ``DomainSpec`` is what the backend decides from the params,
``domain_xml`` is how libvirt is told. Nothing is string-formatted into XML, so
a param holding ``<`` or quotes cannot change the document's structure.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Dict, List, Optional

# Our marker inside <metadata>: cleanup finds kvmtest's domains by it, not by name parsing.
METADATA_NS = "https://kvmtest.invalid/libvirt/1"
METADATA_PREFIX = "kvmtest"
QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"  # <qemu:commandline> passthrough
ET.register_namespace(METADATA_PREFIX, METADATA_NS)
ET.register_namespace("qemu", QEMU_NS)

# qemu -device names (what the qemu backend's nic_model holds) -> libvirt <model type>.
_NIC_MODELS = {
    "virtio-net-pci": "virtio",
    "virtio-net": "virtio",
    "virtio": "virtio",
    "e1000": "e1000",
    "e1000e": "e1000e",
    "rtl8139": "rtl8139",
    "ne2k_pci": "ne2k_pci",
    "pcnet": "pcnet",
}

# drive_format -> (libvirt bus, target device prefix)
_DISK_BUSES = {
    "virtio": ("virtio", "vd"),
    "ide": ("ide", "hd"),
    "scsi": ("scsi", "sd"),
    "sata": ("sata", "sd"),
    "ahci": ("sata", "sd"),
}


@dataclass(frozen=True)
class DiskSpec:
    path: str
    fmt: str = "qcow2"
    bus: str = "virtio"  # a drive_format value, mapped by _DISK_BUSES
    readonly: bool = False


@dataclass(frozen=True)
class NicSpec:
    mac: str
    model: str = "virtio-net-pci"  # qemu device name or libvirt model name
    bridge: Optional[str] = None  # None: user-mode (slirp) networking


@dataclass
class DomainSpec:
    """Everything the domain XML says, as plain values (no libvirt objects)."""

    name: str
    domain_type: str  # "kvm" or "qemu" (TCG)
    memory_mib: int
    vcpus: int
    kernel: Optional[str] = None
    initrd: Optional[str] = None
    cmdline: str = ""
    emulator: Optional[str] = None
    machine: Optional[str] = None
    cpu_model: Optional[str] = None
    disks: List[DiskSpec] = field(default_factory=list)
    nics: List[NicSpec] = field(default_factory=list)
    serial_log: Optional[str] = None  # virtlogd copy of everything the serial port printed
    metadata: Dict[str, str] = field(default_factory=dict)  # job/queue/vm markers
    # qemu as root with relabel='no': libvirt leaves base images' owners alone and needs no
    # access for its libvirt-qemu user to the work dir (which may sit under a 0700 tmp dir).
    run_as_root: bool = True
    qemu_args: List[str] = field(default_factory=list)  # qemu_extra_args, passed through

    def validate(self) -> None:
        """Reject values libvirt would refuse with a vaguer message (or accept wrongly)."""
        if not self.name or "/" in self.name:
            raise ValueError(f"domain name {self.name!r} is empty or contains '/'")
        if self.domain_type not in ("kvm", "qemu"):
            raise ValueError(f"domain type {self.domain_type!r} is not 'kvm' or 'qemu'")
        if self.memory_mib <= 0:
            raise ValueError(f"memory {self.memory_mib} MiB is not positive")
        if self.vcpus <= 0:
            raise ValueError(f"vcpus {self.vcpus} is not positive")
        if self.initrd and not self.kernel:
            raise ValueError("initrd given without kernel")
        for d in self.disks:
            if d.bus not in _DISK_BUSES:
                raise ValueError(f"drive_format {d.bus!r} unsupported (known: {', '.join(sorted(_DISK_BUSES))})")
        for n in self.nics:
            if n.model not in _NIC_MODELS:
                raise ValueError(f"nic_model {n.model!r} unsupported by the libvirt backend "
                                 f"(known: {', '.join(sorted(_NIC_MODELS))})")


def _sub(parent: ET.Element, tag: str, text: Optional[str] = None,
         **attrs: Optional[str]) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = text
    return el


def _target_name(prefix: str, index: int) -> str:
    """vda, vdb, ... vdz, vdaa: the device names libvirt expects for ``index``."""
    letters = ""
    i = index
    while True:
        letters = chr(ord("a") + i % 26) + letters
        i = i // 26 - 1
        if i < 0:
            return prefix + letters


def domain_xml(spec: DomainSpec) -> str:
    """The ``<domain>`` document for ``spec`` (validated first)."""
    spec.validate()
    dom = ET.Element("domain", type=spec.domain_type)
    _sub(dom, "name", spec.name)
    if spec.metadata:
        md = _sub(dom, "metadata")
        ET.SubElement(md, f"{{{METADATA_NS}}}guest", dict(sorted(spec.metadata.items())))
    _sub(dom, "memory", str(spec.memory_mib), unit="MiB")
    _sub(dom, "vcpu", str(spec.vcpus))

    os_el = _sub(dom, "os")
    _sub(os_el, "type", "hvm", arch="x86_64", machine=spec.machine)
    if spec.kernel:
        _sub(os_el, "kernel", spec.kernel)
        if spec.initrd:
            _sub(os_el, "initrd", spec.initrd)
        if spec.cmdline:
            _sub(os_el, "cmdline", spec.cmdline)
    else:
        _sub(os_el, "boot", dev="hd")

    # ACPI so an in-guest poweroff ends the domain instead of halting a running qemu.
    feats = _sub(dom, "features")
    _sub(feats, "acpi")
    if spec.cpu_model:
        if spec.cpu_model == "host":
            _sub(dom, "cpu", mode="host-passthrough")
        else:
            cpu = _sub(dom, "cpu", mode="custom", match="exact")
            _sub(cpu, "model", spec.cpu_model, fallback="forbid")
    # Like the qemu backend: a reboot resets the guest in place (same pty, the reboot test
    # type relies on it); a poweroff or crash ends the domain so the test sees it.
    _sub(dom, "on_poweroff", "destroy")
    _sub(dom, "on_reboot", "restart")
    _sub(dom, "on_crash", "destroy")

    devs = _sub(dom, "devices")
    if spec.emulator:
        _sub(devs, "emulator", spec.emulator)
    counters: Dict[str, int] = {}
    for d in spec.disks:
        bus, prefix = _DISK_BUSES[d.bus]
        idx = counters.get(prefix, 0)
        counters[prefix] = idx + 1
        disk = _sub(devs, "disk", type="file", device="disk")
        _sub(disk, "driver", name="qemu", type=d.fmt)
        _sub(disk, "source", file=d.path)
        _sub(disk, "target", dev=_target_name(prefix, idx), bus=bus)
        if d.readonly:
            _sub(disk, "readonly")
    for n in spec.nics:
        if n.bridge:
            iface = _sub(devs, "interface", type="bridge")
            _sub(iface, "source", bridge=n.bridge)
        else:
            iface = _sub(devs, "interface", type="user")
        _sub(iface, "mac", address=n.mac)
        _sub(iface, "model", type=_NIC_MODELS[n.model])

    serial = _sub(devs, "serial", type="pty")
    if spec.serial_log:
        _sub(serial, "log", file=spec.serial_log, append="off")
    _sub(serial, "target", port="0")
    console = _sub(devs, "console", type="pty")
    _sub(console, "target", type="serial", port="0")
    # No <graphics>, no USB, no balloon: less for TCG to emulate, nothing listening.
    _sub(devs, "controller", type="usb", model="none")
    _sub(devs, "memballoon", model="none")
    if spec.run_as_root:
        sec = _sub(dom, "seclabel", type="static", model="dac", relabel="no")
        _sub(sec, "label", "+0:+0")
    if spec.qemu_args:
        cmd = ET.SubElement(dom, f"{{{QEMU_NS}}}commandline")
        for arg in spec.qemu_args:
            ET.SubElement(cmd, f"{{{QEMU_NS}}}arg", value=arg)
    ET.indent(dom)  # the saved copy in the test's log dir is read by people
    return ET.tostring(dom, encoding="unicode")


def parse_serial_pty(xml: str) -> Optional[str]:
    """The host pty path libvirt gave serial port 0 (only known once the domain runs)."""
    root = ET.fromstring(xml)
    for serial in root.findall("./devices/serial"):
        if serial.get("type") != "pty":
            continue
        target = serial.find("target")
        if target is not None and target.get("port", "0") != "0":
            continue
        src = serial.find("source")
        if src is not None and src.get("path"):
            return src.get("path")
    return None


def parse_macs(xml: str) -> List[str]:
    """The MAC addresses of the domain's interfaces, in order."""
    root = ET.fromstring(xml)
    return [m.get("address", "").lower() for m in root.findall("./devices/interface/mac")]


def parse_metadata(xml: str) -> Dict[str, str]:
    """Our metadata attributes from a domain's XML ({} when it is not kvmtest's)."""
    root = ET.fromstring(xml)
    el = root.find(f"./metadata/{{{METADATA_NS}}}guest")
    return dict(el.attrib) if el is not None else {}
