"""Per-object params (``mem_vm2``, ``nic_model_nic1``) as avocado-vt resolves them.

``object_params(params, "vm2")`` returns a copy where every ``KEY_vm2`` also
sets ``KEY``; chaining it (vm, then nic) gives a NIC's view. ``object_value``
is the cheap single-key form the planner uses on every test.
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Tuple


def object_params(params: Mapping[str, str], name: str) -> Dict[str, str]:
    """``params`` seen by object ``name``: ``KEY_name`` overrides ``KEY``."""
    suffix = "_" + name
    view = dict(params)
    for key, value in params.items():
        if key.endswith(suffix):
            view[key.split(suffix)[0]] = value
    return view


def object_value(
    params: Mapping[str, str], key: str, *objects: str, default: Optional[str] = None
) -> Optional[str]:
    """``key`` for the most specific of ``objects`` (listed outer to inner)."""
    for obj in reversed(objects):
        value = params.get(f"{key}_{obj}")
        if value is not None:
            return value
    return params.get(key, default)


def guest_nics(params: Mapping[str, str]) -> List[Tuple[str, str, str]]:
    """(vm, nic, nic_mode) for every NIC of every guest the test declares, in order."""
    out: List[Tuple[str, str, str]] = []
    for vm in params.get("vms", "").split():
        nics = object_value(params, "nics", vm, default="") or ""
        for nic in nics.split():
            mode = object_value(params, "nic_mode", vm, nic, default="user") or "user"
            out.append((vm, nic, mode))
    return out
