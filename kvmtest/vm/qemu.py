"""The QEMU backend: argv from params, serial console and QMP on unix sockets.

The qemu command line is built as a list (never a shell string) from
avocado-vt style params and saved to the test's log dir. Every qemu carries
``KVMTEST_JOB``/``KVMTEST_QUEUE``/``KVMTEST_VM`` in its environment so
``kvmtest.vm.reaper.kill_guests`` can find it from any process. With
``nic_mode = tap`` qemu runs inside the queue's network namespace
(``ip netns exec NS qemu ...``; ``ip`` execs, so the pid is qemu's).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shlex
import signal
import subprocess
from pathlib import Path
from typing import Dict, List, Optional

import psutil

from kvmtest.vm import netns
from kvmtest.vm.base import RUNNING, VM, GuestState, register
from kvmtest.vm.console import connect_unix
from kvmtest.vm.context import TestContext
from kvmtest.vm.env import GuestRecord
from kvmtest.vm.errors import VMDeadError, VMError
from kvmtest.vm.images import drive_args, plan_drives, remove_overlays
from kvmtest.vm.params import (
    get_float,
    get_int,
    opt_escape,
    resolve_path,
    single_value,
    split_args,
)
from kvmtest.vm.qmp import QMP, QMPError
from kvmtest.vm.reaper import (
    ENV_JOB,
    ENV_QUEUE,
    ENV_RUNNER,
    ENV_VM,
    kill_tree,
    runner_mark,
    verified_guest,
)
from kvmtest.vm.sockdir import SUN_PATH_MAX, socket_dir

__all__ = ["NIC_MODELS", "SUN_PATH_MAX", "QemuVM", "socket_dir", "tap_name"]

log = logging.getLogger("kvmtest.vm.qemu")

NIC_MODELS = {"virtio": "virtio-net-pci", "e1000": "e1000", "rtl8139": "rtl8139"}
def tap_name(vm: str, nic: str) -> str:
    return "kt" + hashlib.sha1(f"{vm}/{nic}".encode()).hexdigest()[:10]


@register("qemu")
class QemuVM(VM):
    """A guest run by a local qemu process."""

    def __init__(self, name: str, params: Dict[str, str], test: TestContext) -> None:
        super().__init__(name, params, test)
        sdir = socket_dir(Path(test.workdir))
        self.console_socket = str(sdir / f"{name}.console")
        self.monitor_socket = str(sdir / f"{name}.qmp")
        self.proc: Optional[subprocess.Popen] = None
        self.pid = 0
        self.create_time = 0.0
        self.cmdline: List[str] = []
        self.netns_name = ""
        self.taps: List[str] = []
        self.stderr_path = Path(test.logdir) / f"qemu-{name}.stderr"
        self.accel = ""
        self.accel_why = ""

    # -- argv -------------------------------------------------------------------
    def make_argv(self) -> List[str]:
        """The full qemu argv (creates overlays and, for tap NICs, the network)."""
        from kvmtest.vm import accel

        p = self.params
        self.accel, self.accel_why = accel.resolve(p)
        try:
            machine = single_value(p.get("machine_type", "pc"), "machine_type")
        except ValueError as exc:
            raise VMError(f"{self.name}: {exc}") from None
        argv = [p.get("qemu_binary", "qemu-system-x86_64"), "-name", self.name,
                "-nodefaults", "-no-user-config", "-display", "none",
                "-machine", machine, "-accel", self.accel,
                "-m", str(get_int(p, "mem", 256)), "-smp", str(get_int(p, "smp", 1))]
        cpu = p.get("cpu_model") or ("host" if self.accel == "kvm" else "")
        if cpu:
            argv += ["-cpu", cpu]
        argv += ["-chardev", f"socket,id=console0,path={opt_escape(self.console_socket)},server=on,wait=on",
                 "-serial", "chardev:console0",
                 "-chardev", f"socket,id=qmp0,path={opt_escape(self.monitor_socket)},server=on,wait=off",
                 "-mon", "chardev=qmp0,mode=control"]
        if p.get("kernel"):
            argv += ["-kernel", str(resolve_path(p["kernel"], p))]
            if p.get("initrd"):
                argv += ["-initrd", str(resolve_path(p["initrd"], p))]
            argv += ["-append", self.kernel_cmdline()]
        argv += drive_args(plan_drives(self.name, p, Path(self.test.workdir)))
        argv += self.nic_args()
        argv += split_args(p.get("qemu_extra_args", ""))
        return argv

    def nic_args(self) -> List[str]:
        if not self.nics:
            return ["-nic", "none"]
        args: List[str] = []
        for n in self.nics:
            nid = f"net-{n.name}"
            if n.mode == "user":
                args += ["-netdev", f"user,id={nid}"]
            elif n.mode == "tap":
                if not n.netdst:
                    raise VMError(f"{self.name}/{n.name}: nic_mode = tap needs netdst (the bridge)")
                self.netns_name = netns.ensure_namespace(self.test.job_id, self.test.queue)
                netns.ensure_bridge(self.netns_name, n.netdst)
                tap = tap_name(self.name, n.name)
                netns.add_tap(self.netns_name, tap, n.netdst)
                self.taps.append(tap)
                args += ["-netdev", f"tap,id={nid},ifname={tap},script=no,downscript=no"]
            else:
                raise VMError(f"{self.name}/{n.name}: nic_mode {n.mode!r} is not user or tap")
            try:
                model = single_value(NIC_MODELS.get(n.model, n.model), "nic_model")
                mac = single_value(n.mac, "mac")
            except ValueError as exc:
                raise VMError(f"{self.name}/{n.name}: {exc}") from None
            args += ["-device", f"{model},netdev={nid},mac={mac},id={n.name}"]
        return args

    # -- lifecycle ----------------------------------------------------------------
    def _start(self) -> None:
        if self.is_alive():
            raise VMError(f"{self.name} is already running (pid {self.pid})")
        Path(self.test.logdir).mkdir(parents=True, exist_ok=True)
        # (a short /tmp socket dir may have been removed by another guest's cleanup)
        Path(self.console_socket).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        for s in (self.console_socket, self.monitor_socket):
            try:
                os.unlink(s)
            except FileNotFoundError:
                pass
        self.state = GuestState.BOOTING
        argv = self.make_argv()
        if self.netns_name:
            argv = ["ip", "netns", "exec", self.netns_name] + argv
        (Path(self.test.logdir) / f"qemu-{self.name}.cmdline").write_text(shlex.join(argv) + "\n")
        env = dict(os.environ)
        env.update({ENV_JOB: self.test.job_id, ENV_QUEUE: self.test.queue, ENV_VM: self.name,
                    ENV_RUNNER: runner_mark()})  # orphans.reap_orphans: reaped once we are gone
        log.info("starting %s: %s", self.name, shlex.join(argv))
        with open(self.stderr_path, "ab") as err:
            try:
                self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                             env=env, start_new_session=True)
            except OSError as exc:
                raise VMError(f"cannot start qemu for {self.name}: {exc}") from None
        self.pid = self.proc.pid
        try:
            # wait=on: qemu does not run the guest until we hold the console, so no boot output is lost.
            sock = connect_unix(self.console_socket, timeout=get_float(self.params, "qemu_start_timeout", 15),
                                alive=lambda: self.proc is not None and self.proc.poll() is None)
        except VMError as exc:
            reason = self.death_reason()
            self.destroy(gracefully=False)
            raise VMDeadError(f"{self.name}: qemu failed to start: {reason or exc}") from None
        proc = psutil.Process(self.pid)
        self.create_time = proc.create_time()
        self.cmdline = proc.cmdline()
        self.session = self._session(sock)

    def _on_hang(self, msg: str) -> None:
        log.warning("%s; killing the guest", msg)
        self.destroy(gracefully=False)

    def is_alive(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is None
        return self._verified() is not None

    def _verified(self) -> Optional[psutil.Process]:
        """A reattached guest's process, when it provably still is that guest (else None)."""
        return verified_guest(self.pid, self.create_time, self.cmdline, self.test.job_id,
                              self.test.queue, self.name)

    def death_reason(self) -> Optional[str]:
        if self.is_alive():
            return None
        if self.proc is not None and self.proc.returncode is not None:
            rc = self.proc.returncode
            what = f"killed by {signal.Signals(-rc).name}" if rc < 0 else f"exited with status {rc}"
        else:
            what = "is gone"
        tail = ""
        try:
            lines = [ln for ln in self.stderr_path.read_text(errors="replace").splitlines() if ln.strip()]
            if lines:
                tail = "; stderr: " + " | ".join(lines[-3:])
        except OSError:
            pass
        return f"qemu (pid {self.pid}) {what}{tail}"

    def _open_console(self) -> object:
        return connect_unix(self.console_socket, 5, self.is_alive)

    def monitor(self, timeout: float = 5.0) -> QMP:
        """A QMP connection to the running guest's monitor."""
        self.require(RUNNING, "talk to its QMP monitor")
        return QMP(self.monitor_socket, timeout)

    def destroy(self, gracefully: bool = True) -> None:
        try:
            if self.is_alive() and gracefully:
                try:
                    with QMP(self.monitor_socket, 2.0) as qmp:  # any state: it is alive
                        qmp.cmd("quit", expect_close=True)
                    self._wait_gone(get_float(self.params, "shutdown_timeout", 5.0))
                except QMPError as exc:
                    log.info("%s: QMP quit failed (%s), killing", self.name, exc)
            self._kill()
        finally:
            self.close_sessions()
            self.state = GuestState.STOPPED
            self._cleanup_files()


    def _kill(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:  # not reaped yet, so the pid cannot have been reused
                try:
                    kill_tree(psutil.Process(self.pid), signal.SIGKILL)
                except psutil.Error:
                    pass
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    raise VMError(f"{self.name}: qemu pid {self.pid} survived SIGKILL") from None
        else:  # reattached: only a process that provably is this guest is signalled
            proc = self._verified()
            if proc is not None:
                kill_tree(proc, signal.SIGKILL)
                self._wait_gone(10)

    def _cleanup_files(self) -> None:
        for s in (self.console_socket, self.monitor_socket):
            try:
                os.unlink(s)
            except OSError:
                pass
        sdir = Path(self.console_socket).parent
        if sdir != Path(self.test.workdir):  # a short /tmp dir (see socket_dir)
            try:
                sdir.rmdir()  # fails while other guests of the queue still have sockets there
            except OSError:
                pass
        for tap in self.taps:
            netns.del_link(self.netns_name, tap)
        self.taps = []
        remove_overlays(self.name, self.params, Path(self.test.workdir))

    # -- env records ------------------------------------------------------------
    def _record(self) -> GuestRecord:
        return GuestRecord(
            name=self.name, vm_type="qemu", pid=self.pid, create_time=self.create_time,
            cmdline=self.cmdline, params_digest=self.params_digest,
            console=self.console_socket, monitor=self.monitor_socket,
            console_log=str(self.console_log), netns=self.netns_name,
            job_id=self.test.job_id, queue=self.test.queue,
            extra={"taps": self.taps, "stderr": str(self.stderr_path), "accel": self.accel},
        )

    @classmethod
    def from_env(cls, record: GuestRecord, params: Dict[str, str], test: TestContext) -> QemuVM:
        vm = cls(record.name, params, test)
        vm.pid = record.pid
        vm.create_time = record.create_time
        vm.cmdline = list(record.cmdline)
        vm.console_socket = record.console
        vm.monitor_socket = record.monitor
        vm.netns_name = record.netns
        vm.taps = list(record.extra.get("taps", []))
        vm.accel = str(record.extra.get("accel", ""))
        if record.extra.get("stderr"):
            vm.stderr_path = Path(record.extra["stderr"])
        vm.state = GuestState.READY if vm.is_alive() else GuestState.STOPPED
        return vm
