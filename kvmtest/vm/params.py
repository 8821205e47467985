"""Small helpers over the flat ``str -> str`` param dicts the config language yields.

Names follow avocado-vt where it has them (``object_params``, ``vms``, ``nics``...)
so configs written for it read the same here.
"""

from __future__ import annotations

import hashlib
import json
import math
import shlex
from typing import Dict, List, Mapping

from kvmtest.paths import resolve_path  # noqa: F401  (one definition; re-exported for the backends)
from kvmtest.plan.params import object_params  # one definition, shared with planning

_TRUE = {"yes", "true", "on", "1", "y"}
_FALSE = {"no", "false", "off", "0", "n", ""}


def get_list(params: Mapping[str, str], key: str, default: str = "") -> List[str]:
    """A whitespace-separated list param (``vms = vm1 vm2``)."""
    return params.get(key, default).split()


def get_bool(params: Mapping[str, str], key: str, default: bool = False) -> bool:
    """A yes/no param; anything unrecognised is an error rather than a silent default."""
    raw = params.get(key)
    if raw is None:
        return default
    low = raw.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"param {key} = {raw!r} is not a yes/no value")


def get_int(params: Mapping[str, str], key: str, default: int) -> int:
    raw = params.get(key)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw.strip())
    except ValueError:
        raise ValueError(f"param {key} = {raw!r} is not an integer") from None


def get_float(params: Mapping[str, str], key: str, default: float) -> float:
    raw = params.get(key)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ValueError(f"param {key} = {raw!r} is not a number") from None
    if not math.isfinite(value):  # nan/inf would make a wait endless (every float param is one)
        raise ValueError(f"param {key} = {raw!r} is not a finite number")
    return value


def opt_escape(value: str) -> str:
    """A value embedded in a qemu option string (``path=...``): qemu reads ``,,`` as one comma."""
    return str(value).replace(",", ",,")


def single_value(value: str, key: str) -> str:
    """A param that is one qemu value (a machine type, a device model, a format): no ``,`` in it.

    Escaping would not help there (qemu reads ``-machine pc,,x`` as an invalid parameter), and
    a comma would splice in options the config never meant to set (``pc,accel=kvm``).
    """
    if "," in value:
        raise ValueError(f"param {key} = {value!r} holds a ',': it is one qemu value, and a comma"
                         " would add qemu options (put extra options in qemu_extra_args)")
    return value


def split_args(value: str) -> List[str]:
    """Shell-like split of an argv param, never handed to a shell."""
    return shlex.split(value)


# Params that shape a running guest. Two tests whose vm sees the same values
# (after object_params) may share the guest when ``kill_vm = no``.
VM_KEYS = (
    "vm_type", "qemu_binary", "accel", "machine_type", "cpu_model", "mem", "smp",
    "images", "image_name", "image_format", "drive_format", "snapshot", "image_readonly",
    "nics", "nic_model", "nic_mode", "netdst", "kernel", "initrd", "kernel_params",
    "extra_params", "qemu_extra_args", "login_prompt", "username", "password", "shell_prompt",
)


def params_digest(params: Mapping[str, str], vm: str, addresses: List[Dict[str, str]]) -> str:
    """A stable digest of what makes ``vm`` the guest it is (reuse only on equality)."""
    p = object_params(params, vm)
    picked: Dict[str, object] = {k: p.get(k, "") for k in VM_KEYS}
    for img in get_list(p, "images"):
        ip = object_params(p, img)
        picked["image:" + img] = [ip.get(k, "") for k in ("image_name", "image_format", "drive_format", "snapshot")]
    for nic in get_list(p, "nics"):
        np_ = object_params(p, nic)
        picked["nic:" + nic] = [np_.get(k, "") for k in ("nic_model", "nic_mode", "netdst", "mac", "ip")]
    picked["addresses"] = sorted(json.dumps(a, sort_keys=True) for a in addresses)
    blob = json.dumps(picked, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
