"""Choosing the accelerator: ``accel = auto | kvm | tcg``.

``/dev/kvm`` existing is not enough: under nested virtualization KVM can hang
guests at boot. ``auto`` therefore boots the tiny guest once under KVM with a
short timeout and caches the verdict per machine (host, kernel, qemu binary)
in ``~/.cache/kvmtest/accel.json``; a hang or failure means TCG. The choice
is announced once per process in one line saying which and why.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import platform
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from kvmtest.fsutil import atomic_write
from kvmtest.paths import cache_dir
from kvmtest.vm.reaper import ENV_JOB, ENV_QUEUE, kill_tree

log = logging.getLogger("kvmtest.vm.accel")

CACHE = cache_dir() / "accel.json"
_announced: set = set()


def machine_key(qemu_binary: str) -> str:
    """What the verdict depends on: a new kernel or qemu may behave differently."""
    try:
        from shutil import which

        path = which(qemu_binary) or qemu_binary
        st = os.stat(path)
        qemu = f"{path}:{st.st_size}:{int(st.st_mtime)}"
    except OSError:
        qemu = qemu_binary
    return f"{platform.node()}|{platform.release()}|{qemu}"


def resolve(params: Dict[str, str]) -> Tuple[str, str]:
    """(accelerator, why) for these params; announces the choice once per reason."""
    want = params.get("accel", "auto").strip() or "auto"
    qemu = params.get("qemu_binary", "qemu-system-x86_64")
    if want == "tcg":
        return "tcg", "accel = tcg"
    if want == "kvm":
        return "kvm", "accel = kvm"
    if want != "auto":
        raise ValueError(f"accel = {want!r}: expected auto, kvm or tcg")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        choice = ("tcg", "/dev/kvm is missing or not accessible")
    else:
        timeout = float(params.get("accel_probe_timeout", "10"))
        choice = cached_probe(qemu, timeout)
    _announce(*choice)
    return choice


def _announce(accel: str, why: str) -> None:
    if accel not in _announced:  # once per process and choice, not per guest
        _announced.add(accel)
        log.warning("accel = auto: using %s (%s)", accel.upper(), why)


def cached_probe(qemu: str, timeout: float, cache: Path = CACHE) -> Tuple[str, str]:
    key = machine_key(qemu)
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one probe per machine even with parallel queues
        data = _read_cache(cache)
        hit = data.get(key)
        if hit:
            return hit["accel"], hit["why"] + " (cached probe)"
        ok, detail = probe_kvm(qemu, timeout)
        verdict = ("kvm", f"KVM probe booted the tiny guest: {detail}") if ok else (
            "tcg", f"/dev/kvm exists but the KVM probe failed: {detail}")
        data[key] = {"accel": verdict[0], "why": verdict[1], "time": time.time()}
        atomic_write(cache, json.dumps(data, indent=1), fsync=False)
        return verdict


def _read_cache(cache: Path) -> Dict[str, Dict[str, Any]]:
    try:
        data = json.loads(cache.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def probe_kvm(qemu: str, timeout: float) -> Tuple[bool, str]:
    """Boot the tiny guest under KVM; True if it reaches its ready marker in time."""
    from kvmtest.vm.tinyguest import TinyGuestError, ensure_built

    try:
        arts = ensure_built()
    except (OSError, TinyGuestError) as exc:
        return False, f"cannot build the tiny guest for the probe: {exc}"
    argv = [qemu, "-nodefaults", "-no-user-config", "-display", "none", "-accel", "kvm",
            "-m", "256", "-kernel", arts["kernel"], "-initrd", arts["initrd"],
            "-append", "console=ttyS0 quiet loglevel=1 panic=-1", "-no-reboot", "-serial", "stdio"]
    env = dict(os.environ, **{ENV_JOB: "accel-probe", ENV_QUEUE: "probe"})
    start = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, preexec_fn=_die_with_parent)
    except OSError as exc:
        return False, str(exc)
    buf = b""
    try:
        assert proc.stdout is not None
        while time.monotonic() - start < timeout:
            r, _w, _x = select.select([proc.stdout], [], [], 0.2)
            if r:
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    return False, f"qemu exited {proc.wait()}: {buf[-200:].decode(errors='replace').strip()}"
                buf += chunk
                if b"KVMTEST-READY" in buf:
                    return True, f"ready in {time.monotonic() - start:.1f} s"
        return False, f"guest did not boot within {timeout:g} s (nested KVM hang?)"
    finally:
        import psutil

        try:
            kill_tree(psutil.Process(proc.pid))
        except psutil.Error:
            pass
        proc.wait()


def _die_with_parent() -> None:
    """In the probe's child: get SIGKILL when the prober dies, so a killed run leaks no probe."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def forget(cache: Path = CACHE, qemu: Optional[str] = None) -> None:
    """Drop cached verdicts (all, or one qemu's on this machine)."""
    data = _read_cache(cache)
    if qemu is None:
        data = {}
    else:
        data.pop(machine_key(qemu), None)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(data))
