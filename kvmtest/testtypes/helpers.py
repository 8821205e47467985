"""What the guest test types share: finding guests, logging in, checking addresses.

Not a test type itself (``load`` only accepts the names in ``BUILTIN``).
"""

from __future__ import annotations

import re
import string
from typing import Dict, List, Tuple

from kvmtest.testtypes.errors import TestError, TestFail
from kvmtest.vm.base import VM
from kvmtest.vm.console import ConsoleSession
from kvmtest.vm.env import Env
from kvmtest.vm.params import get_bool, get_float, get_list

NIC_QUERY = (
    'for d in /sys/class/net/*; do n=${d##*/}; [ "$n" = lo ] && continue; '
    'echo "KTNIC $n $(cat $d/address) $(ip -4 -o addr show dev $n | awk \'{print $4}\' | head -n 1)"; done'
)


def get_vm(params: Dict[str, str], env: Env, name: str = "") -> VM:
    """The guest ``name`` (default: ``main_vm``) that preprocess started for this test."""
    name = name or params.get("main_vm") or (get_list(params, "vms") or ["vm1"])[0]
    vm = env.get_vm(name)
    if vm is None:
        raise TestError(f"guest {name} was not started (is it in vms? is start_vm = no?)")
    return vm


def login(vm: VM, params: Dict[str, str]) -> ConsoleSession:
    return vm.wait_for_login(get_float(vm.params, "login_timeout", 60.0))


def guest_nics(session: ConsoleSession, timeout: float = 30.0) -> List[Tuple[str, str, str]]:
    """(interface, mac, ip/prefix or '') for each guest NIC, as the guest reports them."""
    out = session.cmd_output(NIC_QUERY, timeout)
    nics = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "KTNIC":
            nics.append((parts[1], parts[2].lower(), parts[3] if len(parts) > 3 else ""))
    return nics


def check_addresses(vm: VM, session: ConsoleSession) -> None:
    """FAIL unless every planned NIC shows up in the guest with its planned MAC and IP."""
    if not get_bool(vm.params, "check_addresses", True) or not vm.nics:
        return
    seen = guest_nics(session)
    by_mac = {mac: (ifc, ip) for ifc, mac, ip in seen}
    for nic in vm.nics:
        if nic.mac not in by_mac:
            found = ", ".join(f"{i}={m}" for i, m, _ in seen) or "no NICs"
            raise TestFail(f"{vm.name}/{nic.name}: planned MAC {nic.mac} not found in the guest ({found})")
        ifc, ip = by_mac[nic.mac]
        if nic.ip and ip.split("/")[0] != nic.ip_address:
            raise TestFail(
                f"{vm.name}/{nic.name}: {ifc} has IP {ip or 'none'}, the plan says {nic.ip_address}"
            )


def substitutions(vm: VM) -> Dict[str, str]:
    """``${mac}``/``${ip}`` (first NIC), ``${mac_<nic>}``/``${ip_<nic>}``, ``${vm}``."""
    subs = {"vm": vm.name}
    for i, nic in enumerate(vm.nics):
        vals = {"mac": nic.mac, "ip": nic.ip_address or ""}
        for k, v in vals.items():
            subs[f"{k}_{nic.name}"] = v
            if i == 0:
                subs[k] = v
    return subs


def expand(template: str, vm: VM, regex: bool = False) -> str:
    """Fill plan placeholders into a param (regex-escaped when it is a pattern)."""
    subs = substitutions(vm)
    if regex:
        subs = {k: re.escape(v) for k, v in subs.items()}
    return string.Template(template).safe_substitute(subs)
