"""libvirt connections, clear errors, isolated bridges and leak cleanup.

Everything here talks to libvirt through libvirt-python (never ``virsh``).
Failures become ``LibvirtVMError`` (a ``VMError``: the test is ERROR) with one
line that names the URI and libvirt's own reason, instead of a traceback.

Cleanup does not trust names: every domain kvmtest creates carries a
``<metadata>`` element with its job, queue and vm (see ``libvirt_xml``), and
every bridge carries an ``ifalias`` with its job and queue, so
``cleanup_domains`` finds them even after the process that made them died.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import subprocess
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

from kvmtest.vm.errors import VMError
from kvmtest.vm.libvirt_xml import parse_metadata

log = logging.getLogger("kvmtest.vm.libvirt")

DEFAULT_URI = "qemu:///system"
NAME_PREFIX = "kvmtest"
BRIDGE_PREFIX = "kvt"
_ALIAS_PREFIX = "kvmtest:"
START_HINT = ("is libvirtd running? start it with scripts/libvirtd.sh start"
              " (or systemctl start libvirtd where systemd runs)")

try:  # an optional dependency: the `libvirt` extra of setup.cfg
    import libvirt as _libvirt
except ImportError:  # pragma: no cover - depends on the machine
    _libvirt = None


class LibvirtVMError(VMError):
    """A libvirt call failed; the message names the operation, URI and libvirt's reason."""


def require_libvirt() -> Any:
    """The ``libvirt`` module, or a clear error saying how to install it."""
    if _libvirt is None:
        raise LibvirtVMError(
            "vm_type = libvirt needs libvirt-python: pip install libvirt-python "
            "(or `make venv`, which installs the 'libvirt' extra; needs libvirt-dev and pkg-config)"
        )
    return _libvirt


def _quiet(_ctx: Any, _err: Any) -> None:
    """libvirt prints every error on stderr by default; we raise them instead."""


if _libvirt is not None:
    _libvirt.registerErrorHandler(_quiet, None)


def reason(exc: BaseException) -> str:
    """libvirt's own message for ``exc`` (one line)."""
    msg = exc.get_error_message() if hasattr(exc, "get_error_message") else None
    return " ".join(str(msg or exc).split())


_CONNS: Dict[str, Any] = {}
_USED_URIS: Set[str] = set()
_LOCK = threading.Lock()


def _hint(exc: Any) -> str:
    """What to do next: an RPC/socket failure means no daemon; anything else, a wrong URI."""
    lv = require_libvirt()
    if exc.get_error_domain() == lv.VIR_FROM_RPC:
        return START_HINT
    return "check the libvirt_uri param"


def connect(uri: str = DEFAULT_URI) -> Any:
    """A (cached, thread-shared) read-write connection to ``uri``."""
    lv = require_libvirt()
    with _LOCK:
        conn = _CONNS.get(uri)
        if conn is not None:
            try:
                if conn.isAlive():
                    return conn
            except lv.libvirtError:
                pass
            _CONNS.pop(uri, None)
        try:
            conn = lv.open(uri)
        except lv.libvirtError as exc:
            raise LibvirtVMError(f"libvirt: cannot connect to {uri}: {reason(exc)} ({_hint(exc)})") from None
        if conn is None:  # very old bindings returned None instead of raising
            raise LibvirtVMError(f"libvirt: cannot connect to {uri} ({START_HINT})")
        _CONNS[uri] = conn
        _USED_URIS.add(uri)
        return conn


def close_all() -> None:
    """Drop cached connections (tests that stop the daemon call this)."""
    with _LOCK:
        for conn in _CONNS.values():
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - a dead connection may fail to close; nothing to do
                pass
        _CONNS.clear()


def _clean(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+]", "_", part)


def domain_name(job_id: str, queue: str, vm: str) -> str:
    """``kvmtest-<job>-<queue>-<vm>``: unique per job/queue/vm, readable in ``virsh list``.

    Characters outside [A-Za-z0-9_.+] become '_'; when that changed anything a short
    hash of the raw triple is appended, so ``q/1`` and ``q_1`` still differ.
    """
    raw = (job_id, queue, vm)
    cleaned = [_clean(p) for p in raw]
    name = "-".join([NAME_PREFIX] + cleaned)
    if cleaned != list(raw):
        name += "-" + hashlib.sha256("\0".join(raw).encode()).hexdigest()[:6]
    return name


def _matches(meta: Dict[str, str], job_id: str, queue: Optional[str]) -> bool:
    if meta.get("job") != job_id:
        return False
    return queue is None or meta.get("queue") == queue


def find_domains(conn: Any, job_id: str, queue: Optional[str] = None) -> List[Tuple[Any, Dict[str, str]]]:
    """kvmtest's domains of ``job_id`` (and ``queue``), running or merely defined."""
    lv = require_libvirt()
    out = []
    for dom in conn.listAllDomains(0):
        try:
            meta = parse_metadata(dom.XMLDesc(0))
        except lv.libvirtError:  # vanished between list and lookup
            continue
        if meta and _matches(meta, job_id, queue):
            out.append((dom, meta))
    return out


def destroy_domain(dom: Any) -> None:
    """Power off (hard) and undefine ``dom``; a domain already gone is fine."""
    lv = require_libvirt()
    try:
        if dom.isActive():
            dom.destroy()
    except lv.libvirtError as exc:
        if exc.get_error_code() != lv.VIR_ERR_NO_DOMAIN and _still_active(dom):
            raise LibvirtVMError(f"libvirt: cannot destroy domain {dom.name()}: {reason(exc)}") from None
    try:
        if dom.isPersistent():
            dom.undefine()
    except lv.libvirtError as exc:
        if exc.get_error_code() != lv.VIR_ERR_NO_DOMAIN:
            raise LibvirtVMError(f"libvirt: cannot undefine domain {dom.name()}: {reason(exc)}") from None


def _still_active(dom: Any) -> bool:
    lv = require_libvirt()
    try:
        return bool(dom.isActive())
    except lv.libvirtError:
        return False


def cleanup_domains(job_id: str, queue: Optional[str] = None, uri: Optional[str] = None) -> int:
    """Destroy and undefine every domain ``job_id`` (``queue``) created; remove its bridges.

    Safe to call any time (queue end, signal, exit): a daemon that is not running
    has no domains of ours, so that is not an error. Returns how many domains went.
    """
    uris = [uri] if uri else sorted(_USED_URIS | {DEFAULT_URI})
    count = 0
    for u in uris:
        try:
            conn = connect(u)
        except LibvirtVMError as exc:
            log.debug("cleanup: %s", exc)
            continue
        for dom, meta in find_domains(conn, job_id, queue):
            try:
                destroy_domain(dom)
                count += 1
                log.info("cleanup: removed domain %s (queue %s)", dom.name(), meta.get("queue"))
            except LibvirtVMError as exc:
                log.warning("cleanup: %s", exc)
    remove_bridges(job_id, queue)
    return count


# --- isolated bridges ------------------------------------------------------------------
# libvirt starts qemu in the host's network namespace, so the qemu backend's per-queue
# namespace cannot hold these guests' taps. Instead each (job, queue, netdst) gets its own
# bridge in the host namespace with no uplink, no IPv4/IPv6 address and IPv6 disabled:
# guests on it reach only each other.


def bridge_name(job_id: str, queue: str, netdst: str) -> str:
    """``kvt`` + 10 hex digits: fits IFNAMSIZ and differs per job, queue and netdst."""
    digest = hashlib.sha256("\0".join((job_id, queue, netdst)).encode()).hexdigest()
    return BRIDGE_PREFIX + digest[:10]


def _ip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=False)


def _bridge_exists(name: str) -> bool:
    return _ip("link", "show", "dev", name).returncode == 0


def ensure_bridge(job_id: str, queue: str, netdst: str) -> str:
    """Create (idempotent) the isolated bridge for ``netdst`` of this queue; returns its name."""
    name = bridge_name(job_id, queue, netdst)
    if not _bridge_exists(name):
        res = _ip("link", "add", name, "type", "bridge")
        if res.returncode != 0 and not _bridge_exists(name):
            raise LibvirtVMError(f"cannot create isolated bridge {name} for netdst {netdst!r}: {res.stderr.strip()}")
    # Mark it so cleanup finds it from (job, queue) alone.
    alias = _ALIAS_PREFIX + json.dumps([job_id, queue, netdst])
    res = _ip("link", "set", "dev", name, "alias", alias)
    if res.returncode != 0:
        raise LibvirtVMError(f"cannot label bridge {name}: {res.stderr.strip()}")
    # Keep the host firewall (br_netfilter) out of guest-to-guest traffic, whatever its policy.
    _ip("link", "set", "dev", name, "type", "bridge",
        "nf_call_iptables", "0", "nf_call_ip6tables", "0", "nf_call_arptables", "0")
    v6 = Path(f"/proc/sys/net/ipv6/conf/{name}/disable_ipv6")
    if v6.exists():  # no link-local address: the host never talks on this bridge
        v6.write_text("1\n")
    res = _ip("link", "set", "dev", name, "up")
    if res.returncode != 0:
        raise LibvirtVMError(f"cannot bring bridge {name} up: {res.stderr.strip()}")
    return name


def list_bridges(job_id: Optional[str] = None, queue: Optional[str] = None) -> List[str]:
    """Bridges kvmtest made (for ``job_id``/``queue`` when given), found by their alias."""
    res = _ip("-j", "link", "show", "type", "bridge")
    if res.returncode != 0 or not res.stdout.strip():
        return []
    out = []
    for link in json.loads(res.stdout):
        alias = link.get("ifalias", "")
        if not alias.startswith(_ALIAS_PREFIX):
            continue
        try:
            job, q, _netdst = json.loads(alias[len(_ALIAS_PREFIX):])
        except ValueError:
            continue
        if job_id is not None and job != job_id:
            continue
        if queue is not None and q != queue:
            continue
        out.append(link["ifname"])
    return sorted(out)


def remove_bridges(job_id: str, queue: Optional[str] = None) -> int:
    """Delete this job's (queue's) bridges; libvirt already removed the guests' taps."""
    names = list_bridges(job_id, queue)
    for name in names:
        res = _ip("link", "del", "dev", name)
        if res.returncode != 0:
            log.warning("could not remove bridge %s: %s", name, res.stderr.strip())
    return len(names)
