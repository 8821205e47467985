"""The libvirt backend (``vm_type = libvirt``): the same guest as ``qemu``, run by libvirtd.

Params are read exactly as the QEMU backend reads them (mem, smp, images with
per-queue qcow2 overlays, nics with the plan's MACs, kernel/initrd/kernel_params,
accel), plus ``libvirt_uri`` (default ``qemu:///system``). The domain is
persistent only while its test uses it: defined, started paused, its serial pty
opened (so no boot output is lost), resumed; at the end destroyed *and*
undefined. Persistent rather than transient so that after a guest dies libvirt
can still say why (shut down, crashed, destroyed).

Networking: ``nic_mode = user`` is libvirt's user (slirp) interface;
``nic_mode = tap`` puts the NIC on an isolated host bridge per (job, queue,
netdst) made by ``libvirt_conn.ensure_bridge``. The guest's qemu runs as root
with ``relabel='no'`` (a static DAC label), so libvirt neither chowns the base
images nor needs access to the queue's work dir through other users' paths.
"""

from __future__ import annotations

import logging
import os
import shutil
import tty
from pathlib import Path
from typing import Any, Dict, List, Optional

from kvmtest.vm.base import VM, GuestState, register
from kvmtest.vm.context import TestContext
from kvmtest.vm.env import GuestRecord
from kvmtest.vm.errors import VMError
from kvmtest.vm.images import create_overlay, plan_drives, remove_overlays
from kvmtest.vm.libvirt_conn import (
    DEFAULT_URI,
    LibvirtVMError,
    cleanup_domains,
    connect,
    destroy_domain,
    domain_name,
    ensure_bridge,
    reason,
    require_libvirt,
)
from kvmtest.vm.libvirt_xml import DiskSpec, DomainSpec, NicSpec, domain_xml, parse_serial_pty
from kvmtest.vm.params import get_bool, get_float, get_int, resolve_path, split_args

log = logging.getLogger("kvmtest.vm.libvirt")

QEMU_LOG_DIR = Path("/var/log/libvirt/qemu")  # qemu:///system's per-domain qemu stderr


class PtyChannel:
    """The host end of the guest's serial pty, shaped like the socket ConsoleSession takes."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        except OSError as exc:
            raise VMError(f"cannot open serial pty {path}: {exc}") from None
        # Raw, no echo: otherwise the host's line discipline echoes the guest's output back into it.
        tty.setraw(self.fd)

    def fileno(self) -> int:
        return self.fd

    def close(self) -> None:
        if self.fd >= 0:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = -1


# virDomainShutoffReason names -> what a test report should say.
_SHUTOFF_WHY = {
    "VIR_DOMAIN_SHUTOFF_UNKNOWN": "shut off",
    "VIR_DOMAIN_SHUTOFF_SHUTDOWN": "guest powered off",
    "VIR_DOMAIN_SHUTOFF_DESTROYED": "destroyed (killed from the host)",
    "VIR_DOMAIN_SHUTOFF_CRASHED": "qemu crashed or was killed",
    "VIR_DOMAIN_SHUTOFF_MIGRATED": "migrated away",
    "VIR_DOMAIN_SHUTOFF_SAVED": "saved",
    "VIR_DOMAIN_SHUTOFF_FAILED": "failed to start",
    "VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT": "restored from a snapshot",
    "VIR_DOMAIN_SHUTOFF_DAEMON": "daemon restarted without it",
}


def _shutoff_why(lv: Any, code: int) -> str:
    for name, text in _SHUTOFF_WHY.items():
        if getattr(lv, name, None) == code:
            return text
    return f"shut off (reason {code})"


def _domain_type(accel: str) -> str:
    return "kvm" if accel == "kvm" else "qemu"


@register("libvirt")
class LibvirtVM(VM):
    """A guest run as a libvirt domain."""

    def __init__(self, name: str, params: Dict[str, str], test: TestContext) -> None:
        super().__init__(name, params, test)
        self.uri = self.params.get("libvirt_uri", "").strip() or DEFAULT_URI
        self.domain = domain_name(test.job_id, test.queue, name)
        self.uuid = ""
        self.pty = ""
        self.bridges: List[str] = []
        self.accel = ""
        self.accel_why = ""
        self.xml_path = Path(test.logdir) / f"libvirt-{name}.xml"
        self.serial_log = Path(test.logdir) / f"serial-{name}.log"
        self._last_state = ""

    # -- the domain description -----------------------------------------------------
    def make_spec(self) -> DomainSpec:
        """The domain as plain values (creates overlays and, for tap NICs, the bridge)."""
        from kvmtest.vm import accel

        p = self.params
        try:
            self.accel, self.accel_why = accel.resolve(p)
        except ValueError as exc:
            raise VMError(f"{self.name}: {exc}") from None
        dtype = _domain_type(self.accel)
        cpu = p.get("cpu_model") or ("host" if dtype == "kvm" else "")
        emulator = None
        if p.get("qemu_binary"):
            emulator = shutil.which(p["qemu_binary"]) or p["qemu_binary"]
        kernel = initrd = None
        if p.get("kernel"):
            kernel = str(resolve_path(p["kernel"], p))
            if p.get("initrd"):
                initrd = str(resolve_path(p["initrd"], p))
        disks = []
        for d in plan_drives(self.name, p, Path(self.test.workdir)):
            if d.overlay:
                create_overlay(d.base, d.base_fmt, d.path)
            elif not d.path.is_file():
                raise VMError(f"image {d.path} does not exist")
            disks.append(DiskSpec(str(d.path.resolve()), d.fmt, d.interface))
        nics = []
        for n in self.nics:
            if n.mode == "user":
                nics.append(NicSpec(n.mac, n.model))
            elif n.mode == "tap":
                if not n.netdst:
                    raise VMError(f"{self.name}/{n.name}: nic_mode = tap needs netdst (the bridge)")
                br = ensure_bridge(self.test.job_id, self.test.queue, n.netdst)
                if br not in self.bridges:
                    self.bridges.append(br)
                nics.append(NicSpec(n.mac, n.model, bridge=br))
            else:
                raise VMError(f"{self.name}/{n.name}: nic_mode {n.mode!r} is not user or tap")
        return DomainSpec(
            name=self.domain, domain_type=dtype,
            memory_mib=get_int(p, "mem", 256), vcpus=get_int(p, "smp", 1),
            kernel=kernel, initrd=initrd, cmdline=self.kernel_cmdline() if kernel else "",
            emulator=emulator, machine=p.get("machine_type") or None, cpu_model=cpu or None,
            disks=disks, nics=nics, serial_log=str(self.serial_log.resolve()),
            metadata={"job": self.test.job_id, "queue": self.test.queue, "vm": self.name},
            run_as_root=get_bool(p, "libvirt_run_as_root", True),
            qemu_args=split_args(p.get("qemu_extra_args", "")),
        )

    # -- lifecycle ------------------------------------------------------------------
    def _conn(self) -> Any:
        return connect(self.uri)

    def _lookup(self) -> Any:
        """The domain object, or None when libvirt no longer knows it."""
        lv = require_libvirt()
        conn = self._conn()
        try:
            if self.uuid:
                return conn.lookupByUUIDString(self.uuid)
            return conn.lookupByName(self.domain)
        except lv.libvirtError as exc:
            if exc.get_error_code() == lv.VIR_ERR_NO_DOMAIN:
                return None
            raise LibvirtVMError(f"libvirt: looking up domain {self.domain} on {self.uri}: {reason(exc)}") from None

    def _start(self) -> None:
        lv = require_libvirt()
        if self.is_alive():
            raise VMError(f"{self.name} is already running (domain {self.domain})")
        Path(self.test.logdir).mkdir(parents=True, exist_ok=True)
        conn = self._conn()  # fail on a dead daemon before making overlays and bridges
        self.state = GuestState.BOOTING
        try:
            xml = domain_xml(self.make_spec())
        except ValueError as exc:
            raise VMError(f"{self.name}: {exc}") from None
        self.xml_path.write_text(xml + "\n")
        stale = self._lookup()
        if stale is not None:  # same job/queue/vm left over by a crashed run
            log.warning("%s: removing leftover domain %s", self.name, self.domain)
            destroy_domain(stale)
        log.info("starting %s as libvirt domain %s on %s (%s: %s)",
                 self.name, self.domain, self.uri, self.accel.upper(), self.accel_why)
        try:
            dom = conn.defineXML(xml)
        except lv.libvirtError as exc:
            raise LibvirtVMError(
                f"libvirt on {self.uri} refused the domain XML of {self.name} ({self.xml_path}): {reason(exc)}"
            ) from None
        self.uuid = dom.UUIDString()
        try:
            # Paused first: the guest runs only once we hold its console, so no boot output is lost.
            dom.createWithFlags(lv.VIR_DOMAIN_START_PAUSED)
        except lv.libvirtError as exc:
            msg = reason(exc)
            self._forget(dom)
            raise LibvirtVMError(f"libvirt on {self.uri} could not start {self.name} "
                                 f"(domain {self.domain}): {msg}") from None
        try:
            self.pty = parse_serial_pty(dom.XMLDesc(0)) or ""
            if not self.pty:
                raise VMError(f"{self.name}: libvirt reported no pty for the serial console")
            self.session = self._session(PtyChannel(self.pty))
            dom.resume()
        except lv.libvirtError as exc:
            self.destroy(gracefully=False)
            raise LibvirtVMError(f"libvirt: cannot resume {self.domain}: {reason(exc)}") from None
        except VMError:
            self.destroy(gracefully=False)
            raise

    def _forget(self, dom: Any) -> None:
        try:
            destroy_domain(dom)
        except LibvirtVMError as exc:
            log.warning("%s", exc)
        self._cleanup_files()

    def _on_hang(self, msg: str) -> None:
        log.warning("%s; destroying the domain", msg)
        self.destroy(gracefully=False)

    def is_alive(self) -> bool:
        if not self.uuid:
            return False
        lv = require_libvirt()
        try:
            dom = self._lookup()
            if dom is None:
                self._last_state = "undefined"
                return False
            state, why = dom.state()
        except (LibvirtVMError, lv.libvirtError) as exc:
            self._last_state = f"unknown ({exc})"
            return False
        if state == lv.VIR_DOMAIN_SHUTOFF:
            self._last_state = _shutoff_why(lv, why)
            return False
        if state == lv.VIR_DOMAIN_CRASHED:
            self._last_state = "crashed"
            return False
        return True

    def death_reason(self) -> Optional[str]:
        if self.is_alive():
            return None
        what = self._last_state or "is not running"
        return f"libvirt domain {self.domain}: {what}{self._qemu_log_tail()}"

    def _qemu_log_tail(self) -> str:
        """The last lines qemu wrote to libvirt's per-domain log (only for a local daemon)."""
        if not self.uri.startswith("qemu:///"):
            return ""
        try:
            text = (QEMU_LOG_DIR / f"{self.domain}.log").read_text(errors="replace")
        except OSError:
            return ""
        lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith(("LC_ALL=", "/usr/"))]
        return ("; qemu log: " + " | ".join(lines[-3:])) if lines else ""

    def _open_console(self) -> object:
        if not self.pty:
            raise VMError(f"{self.name}: no serial pty known for domain {self.domain}")
        return PtyChannel(self.pty)

    def destroy(self, gracefully: bool = True) -> None:
        """Stop the domain (SIGTERM to qemu first when graceful), undefine it, drop overlays."""
        try:
            dom = self._lookup() if self.uuid else None
            if dom is not None:
                lv = require_libvirt()
                if gracefully and self.is_alive():
                    try:
                        dom.destroyFlags(lv.VIR_DOMAIN_DESTROY_GRACEFUL)
                    except lv.libvirtError as exc:
                        log.info("%s: graceful destroy failed (%s); forcing", self.name, reason(exc))
                    self._wait_gone(get_float(self.params, "shutdown_timeout", 5.0))
                destroy_domain(dom)
        finally:
            self.close_sessions()
            self.state = GuestState.STOPPED
            self._cleanup_files()


    def _cleanup_files(self) -> None:
        # Bridges belong to the queue (other guests may still use them): cleanup_domains removes them.
        remove_overlays(self.name, self.params, Path(self.test.workdir))

    # -- env records ----------------------------------------------------------------
    def _record(self) -> GuestRecord:
        # pid 0: the guest is libvirtd's child, not ours; liveness is asked of libvirt.
        return GuestRecord(
            name=self.name, vm_type="libvirt", pid=0, create_time=0.0, cmdline=[],
            params_digest=self.params_digest, console=self.pty, monitor="",
            console_log=str(self.console_log), netns="",
            job_id=self.test.job_id, queue=self.test.queue,
            extra={"uri": self.uri, "domain": self.domain, "uuid": self.uuid,
                   "bridges": list(self.bridges), "accel": self.accel},
        )

    @classmethod
    def from_env(cls, record: GuestRecord, params: Dict[str, str], test: TestContext) -> LibvirtVM:
        vm = cls(record.name, params, test)
        vm.uri = str(record.extra.get("uri", vm.uri))
        vm.domain = str(record.extra.get("domain", vm.domain))
        vm.uuid = str(record.extra.get("uuid", ""))
        vm.pty = record.console
        vm.bridges = [str(b) for b in record.extra.get("bridges", [])]
        vm.accel = str(record.extra.get("accel", ""))
        vm.state = GuestState.READY if vm.is_alive() else GuestState.STOPPED
        return vm


__all__ = ["LibvirtVM", "PtyChannel", "cleanup_domains"]
