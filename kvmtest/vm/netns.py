"""Private network namespaces for TAP networking: one per (job, queue).

The bridge (``netdst``) and the taps live inside the namespace and qemu runs
inside it (``ip netns exec NS qemu ...``), so guests only reach each other and
the host's real network is never touched. Everything is removed at queue end
or when the job's guests are killed.
"""

from __future__ import annotations

import logging
import re
import subprocess
from pathlib import Path
from typing import List, Optional

from kvmtest.plan.names import short_hash

log = logging.getLogger("kvmtest.vm.netns")

NETNS_DIR = Path("/run/netns")
PREFIX = "kvmtest-"
IFNAMSIZ = 15


def _clean(part: str) -> str:
    # '-' separates job and queue in the name, so it may not appear inside either.
    return re.sub(r"[^A-Za-z0-9_.]", "_", part)


def ns_name(job_id: str, queue: str) -> str:
    """``kvmtest-<job>-<queue>``; a hash of the queue is added when cleaning changed it
    (queues ``x y``, ``x_y`` and ``x-y`` get three namespaces, not one)."""
    q = _clean(queue)
    if q != queue:
        q = f"{q}_{short_hash(queue, 6)}"
    return f"{PREFIX}{_clean(job_id)}-{q}"


def _ip(*args: str, netns: Optional[str] = None, check: bool = True) -> subprocess.CompletedProcess:
    argv = ["ip"] + (["-n", netns] if netns else []) + list(args)
    res = subprocess.run(argv, capture_output=True, text=True, check=False)
    if check and res.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {res.stderr.strip()}")
    return res


def exists(name: str) -> bool:
    return (NETNS_DIR / name).exists()


def ensure_namespace(job_id: str, queue: str) -> str:
    """Create the queue's namespace (idempotent) with loopback up; returns its name."""
    name = ns_name(job_id, queue)
    if not exists(name):
        res = _ip("netns", "add", name, check=False)
        if res.returncode != 0 and not exists(name):
            raise RuntimeError(f"ip netns add {name} failed: {res.stderr.strip()}")
        _ip("link", "set", "lo", "up", netns=name)
    return name


def check_ifname(name: str) -> str:
    if not name or len(name) > IFNAMSIZ or "/" in name or " " in name:
        raise ValueError(f"interface name {name!r} is invalid (1..{IFNAMSIZ} chars, no '/' or spaces)")
    return name


def _link_exists(netns: str, dev: str) -> bool:
    return _ip("link", "show", "dev", dev, netns=netns, check=False).returncode == 0


def ensure_bridge(netns: str, bridge: str) -> None:
    check_ifname(bridge)
    if not _link_exists(netns, bridge):
        res = _ip("link", "add", bridge, "type", "bridge", netns=netns, check=False)
        if res.returncode != 0 and not _link_exists(netns, bridge):
            raise RuntimeError(f"creating bridge {bridge} in {netns} failed: {res.stderr.strip()}")
    _ip("link", "set", bridge, "up", netns=netns)


def add_tap(netns: str, tap: str, bridge: str) -> None:
    """A fresh tap enslaved to ``bridge`` (a leftover one with that name is replaced)."""
    check_ifname(tap)
    if _link_exists(netns, tap):
        _ip("link", "del", tap, netns=netns, check=False)
    _ip("tuntap", "add", "dev", tap, "mode", "tap", netns=netns)
    _ip("link", "set", tap, "master", bridge, netns=netns)
    _ip("link", "set", tap, "up", netns=netns)


def del_link(netns: str, dev: str) -> None:
    if exists(netns):
        _ip("link", "del", dev, netns=netns, check=False)


def list_namespaces(job_id: Optional[str] = None, queue: Optional[str] = None) -> List[str]:
    if not NETNS_DIR.is_dir():
        return []
    if job_id is None:
        prefix = PREFIX
    elif queue is None:
        prefix = f"{PREFIX}{_clean(job_id)}-"
    else:
        return [ns_name(job_id, queue)] if exists(ns_name(job_id, queue)) else []
    return sorted(p.name for p in NETNS_DIR.iterdir() if p.name.startswith(prefix))


def remove_namespaces(job_id: str, queue: Optional[str] = None) -> int:
    """Delete the job's (queue's) namespaces; taps and bridges go with them."""
    names = list_namespaces(job_id, queue)
    for name in names:
        res = _ip("netns", "del", name, check=False)
        if res.returncode != 0:
            log.warning("could not remove network namespace %s: %s", name, res.stderr.strip())
    return len(names)
