"""The guest backend interface both backends (qemu, libvirt) implement.

A guest has an explicit lifecycle: defined -> booting -> ready -> stopped,
enforced here (as labgrid's ``BindingState`` and ``check_active`` do for
drivers): every state change is checked against ``TRANSITIONS``, and an
operation that needs a running guest (log in, QMP, an env record) raises
``VMStateError`` saying what the guest is instead. Test types and ``kvmtest.testtypes.execute`` only talk to ``VM``; the
``vm_type`` param picks the class through a small registry, so
``kvmtest/vm/libvirt_vm.py`` registers itself with ``@register("libvirt")``.
"""

from __future__ import annotations

import enum
import hashlib
import importlib
import ipaddress
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ClassVar, Dict, List, Optional, Type

from kvmtest.plan.names import check_plain
from kvmtest.vm.console import ConsoleSession
from kvmtest.vm.context import TestContext
from kvmtest.vm.env import GuestRecord
from kvmtest.vm.errors import VMDeadError, VMError, VMHangError, VMStateError
from kvmtest.vm.params import get_bool, get_list, object_params, params_digest

__all__ = ["VM", "GuestState", "NicPlan", "VMError", "VMDeadError", "VMHangError", "VMStateError",
           "TRANSITIONS", "RUNNING", "backend", "make_vm", "register", "plan_nics", "default_mac"]


class GuestState(enum.Enum):
    """Where a guest is in its life, as far as this ``VM`` object knows."""

    DEFINED = "defined"  # an object with params; no process yet
    BOOTING = "booting"  # the process runs; no shell prompt seen yet
    READY = "ready"  # a shell prompt was seen on the console
    STOPPED = "stopped"  # destroyed (by us, or after a hang); may be created again


#: The moves a guest may make. DEFINED -> READY is a reattach (``from_env`` to a guest
#: that is up), READY -> BOOTING a reboot, STOPPED -> BOOTING a fresh start.
TRANSITIONS: Dict[GuestState, frozenset] = {
    GuestState.DEFINED: frozenset({GuestState.BOOTING, GuestState.READY, GuestState.STOPPED}),
    GuestState.BOOTING: frozenset({GuestState.READY, GuestState.STOPPED}),
    GuestState.READY: frozenset({GuestState.BOOTING, GuestState.STOPPED}),
    GuestState.STOPPED: frozenset({GuestState.BOOTING}),
}
#: States in which the guest's process exists (as far as we know).
RUNNING = frozenset({GuestState.BOOTING, GuestState.READY})

_WHY = {
    GuestState.DEFINED: "it was never started (create() comes first; is start_vm = no?)",
    GuestState.BOOTING: "it is already running",
    GuestState.READY: "it is already running",
    GuestState.STOPPED: "it was stopped (destroyed, or killed after a hang or a crash)",
}


@dataclass(frozen=True)
class NicPlan:
    """One NIC as the guest must see it: from the plan's addresses, or a local default."""

    name: str
    mac: str
    ip: Optional[str]  # "a.b.c.d/prefix" or None (unconfigured)
    model: str
    mode: str  # "user" | "tap"
    netdst: str

    @property
    def ip_address(self) -> Optional[str]:
        return self.ip.split("/")[0] if self.ip else None


def default_mac(*parts: str) -> str:
    """A stable locally administered unicast MAC (02:...) for NICs with no planned range."""
    h = hashlib.sha256("/".join(parts).encode()).digest()
    return "02:" + ":".join(f"{b:02x}" for b in h[:5])


def plan_nics(vm: str, params: Dict[str, str], test: TestContext) -> List[NicPlan]:
    """The NICs of ``vm`` with their MAC/IP: plan addresses first, then ``mac``/``ip`` params."""
    vp = object_params(params, vm)
    out = []
    for nic in get_list(vp, "nics"):
        why = check_plain(nic, "NIC name")
        if why:
            raise VMError(f"{vm}: {why}")
        np_ = object_params(vp, nic)
        addr = test.address(vm, nic)
        mac = (addr.mac if addr else None) or np_.get("mac") or default_mac(test.job_id, test.queue, vm, nic)
        ip = (addr.ip if addr else None) or np_.get("ip") or None
        if ip and "/" not in ip:
            ip = f"{ip}/{np_.get('ip_prefix', '24')}"
        if ip:
            ipaddress.ip_interface(ip)  # validate early, with the offending value in the error
        out.append(
            NicPlan(
                name=nic,
                mac=mac.lower(),
                ip=ip,
                model=np_.get("nic_model", "virtio-net-pci"),
                mode=np_.get("nic_mode", "user"),
                netdst=np_.get("netdst", ""),
            )
        )
    return out


class VM(ABC):
    """One guest. Subclasses fill in how it is started, reached and stopped."""

    vm_type: ClassVar[str] = ""

    def __init__(self, name: str, params: Dict[str, str], test: TestContext) -> None:
        why = check_plain(name, "guest name")
        if why:  # the planner refuses these; a plan.json made elsewhere may not
            raise VMError(why)
        self.name = name
        self.all_params = dict(params)
        self.params = object_params(params, name)
        self.test = test
        self.nics = plan_nics(name, params, test)
        self._state = GuestState.DEFINED
        self.session: Optional[ConsoleSession] = None

    # -- lifecycle state ------------------------------------------------------------
    @property
    def state(self) -> GuestState:
        return self._state

    @state.setter
    def state(self, new: GuestState) -> None:
        """Move to ``new``; a move ``TRANSITIONS`` does not list is a bug in the caller."""
        if new is not self._state and new not in TRANSITIONS[self._state]:
            raise VMStateError(f"{self.name}: a {self._state.value} guest cannot become {new.value}")
        self._state = new

    def require(self, states: frozenset, action: str) -> None:
        """Raise VMStateError unless the guest is in one of ``states`` (labgrid's check_active)."""
        if self._state not in states:
            raise VMStateError(f"{self.name}: cannot {action}: the guest is {self._state.value}; "
                               f"{_WHY[self._state]}")

    # -- identity -----------------------------------------------------------------
    @property
    def params_digest(self) -> str:
        addrs = [{"nic": n.name, "mac": n.mac, "ip": n.ip or ""} for n in self.nics]
        return params_digest(self.all_params, self.name, addrs)

    def planned_macs(self) -> Dict[str, str]:
        return {n.name: n.mac for n in self.nics}

    def planned_ips(self) -> Dict[str, Optional[str]]:
        return {n.name: n.ip_address for n in self.nics}

    def kernel_cmdline(self) -> str:
        """``kernel_params`` plus the planned NIC identities for the tiny guest's init."""
        parts = [self.params.get("kernel_params", "console=ttyS0")]
        if get_bool(self.params, "guest_net_cmdline", True):
            parts.append(f"kt.name={self.name}")
            net = "+".join(f"{n.mac},{n.ip or ''}" for n in self.nics)
            if net:
                parts.append(f"kt.net={net}")
        return " ".join(parts)

    @property
    def console_log(self) -> Path:
        """Where this test's view of the guest console is logged."""
        return Path(self.test.logdir) / f"console-{self.name}.log"

    # -- lifecycle ----------------------------------------------------------------
    def create(self) -> None:
        """Start the guest (returns once the process runs; does not wait for login).

        Only a defined or stopped guest can be started; the backend's ``_start`` sets
        BOOTING before it starts anything, so a failure halfway can be destroyed.
        """
        self.require(frozenset({GuestState.DEFINED, GuestState.STOPPED}), "start it")
        try:
            self._start()
        finally:  # the accelerator is chosen before the process starts: known even if it fails
            self.test.note_accel(str(getattr(self, "accel", "") or ""))

    @abstractmethod
    def _start(self) -> None:
        """The backend's part of ``create``: set ``state = BOOTING``, start the process."""

    @abstractmethod
    def is_alive(self) -> bool:
        """True while the guest's process/domain runs."""

    def _wait_gone(self, timeout: float, poll: float = 0.02) -> None:
        """Wait up to ``timeout`` seconds for the guest to be gone."""
        deadline = time.monotonic() + timeout
        while self.is_alive() and time.monotonic() < deadline:
            time.sleep(poll)

    @abstractmethod
    def _open_console(self) -> object:
        """A fresh channel (a socket or a pty, anything with fileno()) to the serial console."""

    @abstractmethod
    def _on_hang(self, msg: str) -> None:
        """The console saw no answer in time: stop the guest, saying why."""

    def _session(self, channel: object) -> ConsoleSession:
        return ConsoleSession(channel, self.name, logfile=self.console_log,  # type: ignore[arg-type]
                              stop=self.test.stop, death_reason=self.death_reason,
                              on_hang=self._on_hang,
                              watch_panic=get_bool(self.params, "watch_kernel_panic", True))

    def wait_for_login(self, timeout: float = 60.0) -> ConsoleSession:
        """A logged-in shell on the serial console; raises VMHangError/VMDeadError/VMStateError."""
        self.require(RUNNING, "log in")
        p = self.params
        nudge = False
        if self.session is None or self.session.closed:
            if not self.is_alive():
                raise VMDeadError(f"{self.name}: {self.death_reason()}")
            self.session = self._session(self._open_console())
            nudge = True  # an already-booted guest prints nothing until poked
        elif self.session.shell_prompt and self.state is GuestState.READY:
            return self.session
        self.session.login(
            p.get("shell_prompt", r"[\#\$]\s"), timeout,
            login_prompt=p.get("login_prompt", ""), username=p.get("username", "root"),
            password=p.get("password", ""), nudge=nudge,
        )
        self.state = GuestState.READY
        return self.session

    @abstractmethod
    def destroy(self, gracefully: bool = True) -> None:
        """Stop the guest: gracefully = ask it (QMP/poweroff) first, then kill."""

    def rebooting(self) -> None:
        """The guest was told to reboot: the next ``wait_for_login`` waits for a fresh prompt."""
        self.require(RUNNING, "reboot it")
        self.state = GuestState.BOOTING
        if self.session is not None:
            self.session.shell_prompt = ""

    def to_env(self) -> GuestRecord:
        """The env record that lets another test (or process) reattach to this guest."""
        self.require(RUNNING, "record it in the env file")
        return self._record()

    @abstractmethod
    def _record(self) -> GuestRecord:
        """The backend's part of ``to_env``."""

    @classmethod
    @abstractmethod
    def from_env(cls, record: GuestRecord, params: Dict[str, str], test: TestContext) -> VM:
        """Reattach to a running guest described by ``record``."""

    def death_reason(self) -> Optional[str]:
        """Why the guest is gone (exit status, signal, last stderr), or None if alive."""
        return None if self.is_alive() else f"guest {self.name} is not running"

    def close_sessions(self) -> None:
        """Drop console connections this object holds (the guest keeps running)."""
        if self.session is not None:
            self.session.close()
            self.session = None


_REGISTRY: Dict[str, Type[VM]] = {}
_MODULES = {"qemu": "kvmtest.vm.qemu", "libvirt": "kvmtest.vm.libvirt_vm"}


def register(vm_type: str) -> Callable[[Type[VM]], Type[VM]]:
    """Class decorator: make ``vm_type = <name>`` select this backend."""

    def deco(cls: Type[VM]) -> Type[VM]:
        cls.vm_type = vm_type
        _REGISTRY[vm_type] = cls
        return cls

    return deco


def known_vm_types() -> List[str]:
    """Every ``vm_type`` a config may name (built-in backends and registered ones)."""
    return sorted(set(_REGISTRY) | set(_MODULES))


def backend(vm_type: str) -> Type[VM]:
    """The backend class for ``vm_type``, importing its module on first use."""
    if vm_type not in _REGISTRY and vm_type in _MODULES:
        importlib.import_module(_MODULES[vm_type])
    try:
        return _REGISTRY[vm_type]
    except KeyError:
        known = known_vm_types()
        raise VMError(f"unknown vm_type {vm_type!r} (known: {', '.join(known)})") from None


def make_vm(name: str, params: Dict[str, str], test: TestContext) -> VM:
    vm_type = object_params(params, name).get("vm_type", "qemu")
    return backend(vm_type)(name, params, test)
