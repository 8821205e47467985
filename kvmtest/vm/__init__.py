"""Guests: qemu/libvirt backends, consoles, images, env files, the tiny guest.

Only the leak-control entry point lives here so the runner's watchdog can
``from kvmtest.vm import kill_guests`` cheaply. Every qemu kvmtest starts carries
``KVMTEST_JOB``/``KVMTEST_QUEUE`` in its environment; ``kill_guests`` finds
them with psutil, so it works even after the process that started them died.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from typing import Callable, List, Optional

import psutil

log = logging.getLogger("kvmtest.vm")

ENV_JOB = "KVMTEST_JOB"
ENV_QUEUE = "KVMTEST_QUEUE"

# Backends whose guests are not our child processes (libvirt) add a killer:
# fn(job_id, queue, sig) -> number of guests signalled.
KillHook = Callable[[str, Optional[str], int], int]
_KILL_HOOKS: List[KillHook] = []


def register_kill_hook(fn: KillHook) -> None:
    if fn not in _KILL_HOOKS:
        _KILL_HOOKS.append(fn)


def _load_libvirt_hook() -> None:
    """Register the libvirt hook even in a process that never started a libvirt guest.

    A resumed job must remove the domains a SIGKILLed run left, before it starts any
    guest of its own. Only when libvirt-python is installed and a local daemon socket exists.
    """
    import importlib.util
    import sys

    if "kvmtest.vm.libvirt_vm" in sys.modules or not os.path.exists("/run/libvirt/libvirt-sock"):
        return
    if importlib.util.find_spec("libvirt") is not None:
        import kvmtest.vm.libvirt_vm  # noqa: F401  (registers its kill hook)


def _own_lineage() -> set:
    pids = {os.getpid()}
    try:
        pids.update(p.pid for p in psutil.Process().parents())
    except psutil.Error:
        pass
    return pids


def find_guest_processes(job_id: str, queue: Optional[str] = None) -> List[psutil.Process]:
    """Processes marked as started by ``job_id`` (and ``queue`` when given)."""
    found = []
    skip = _own_lineage()
    for proc in psutil.process_iter(["pid"]):
        if proc.pid in skip:
            continue
        try:
            env = proc.environ()
        except (psutil.Error, OSError):
            continue
        if env.get(ENV_JOB) != job_id:
            continue
        if queue is not None and env.get(ENV_QUEUE) != queue:
            continue
        found.append(proc)
    return found


def kill_tree(proc: psutil.Process, sig: int = signal.SIGKILL) -> None:
    """Signal ``proc`` and all its descendants (children first, so none is orphaned)."""
    try:
        children = proc.children(recursive=True)
    except psutil.Error:
        children = []
    for p in reversed(children):
        try:
            p.send_signal(sig)
        except psutil.Error:
            pass
    try:
        proc.send_signal(sig)
    except psutil.Error:
        pass


def _is_dead(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def _wait_dead(procs: List[psutil.Process], timeout: float) -> List[psutil.Process]:
    """Wait until the processes are gone or zombies; never reaps (a Popen owner may want the status)."""
    deadline = time.monotonic() + timeout
    alive = [p for p in procs if not _is_dead(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.02)
        alive = [p for p in alive if not _is_dead(p)]
    return alive


def kill_guests(job_id: str, queue: Optional[str] = None, sig: int = signal.SIGKILL) -> int:
    """Signal every guest ``job_id`` (optionally only ``queue``) started; returns how many.

    Called by the runner's watchdog (SIGTERM, then SIGKILL), at queue end and at
    exit. Once no marked process is left, the job's (queue's) network
    namespaces are removed too.
    """
    procs = find_guest_processes(job_id, queue)
    for proc in procs:
        kill_tree(proc, sig)
    count = len(procs)
    _load_libvirt_hook()
    for hook in list(_KILL_HOOKS):
        try:
            count += hook(job_id, queue, sig)
        except Exception as exc:  # one backend failing must not stop the others' cleanup
            log.warning("kill hook %s failed for job %s: %s", getattr(hook, "__name__", hook), job_id, exc)
    if procs and _wait_dead(procs, 3.0 if sig == signal.SIGKILL else 1.0):
        return count
    if not find_guest_processes(job_id, queue):
        from kvmtest.vm import netns

        netns.remove_namespaces(job_id, queue)
    return count
