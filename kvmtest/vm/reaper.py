"""Finding and killing the guests a job started, even after the process that started them died.

Every qemu kvmtest starts carries ``KVMTEST_JOB``/``KVMTEST_QUEUE`` in its
environment; ``kill_guests`` finds them with psutil. libvirt's guests are not our
child processes, so their domains are removed through ``libvirt_conn``. Backends
import this module; it imports no backend, so the arrows in ``vm/`` go one way.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import sys
import time
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Tuple

from kvmtest.vm import netns

if TYPE_CHECKING:  # psutil is imported where a marked process is found: most runs find none
    import psutil

log = logging.getLogger("kvmtest.vm")

ENV_JOB = "KVMTEST_JOB"
ENV_QUEUE = "KVMTEST_QUEUE"
ENV_VM = "KVMTEST_VM"
ENV_RUNNER = "KVMTEST_RUNNER"  # "<pid>:<create time>" of the process that owns the guest

_MARK: List[str] = []


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def proc_stat(pid: int) -> Optional[Tuple[str, float]]:
    """(state letter, create time) of ``pid`` from /proc, None when there is no such process.

    The create time as psutil computes it (start in clock ticks since boot, plus the boot
    time), without importing psutil: every run marks its children with it and checks the
    marks of the runners it finds recorded (``tests/run/test_orphans.py`` compares the two).
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rpartition(b")")[2].split()  # (the name may hold ')')
        with open("/proc/stat", "rb") as f:
            btime = next(float(line.split()[1]) for line in f if line.startswith(b"btime"))
    except (OSError, StopIteration, ValueError):
        return None
    return fields[0].decode(), float(fields[19]) / _CLOCK_TICKS + btime  # fields 3 and 22


def runner_mark(pid: Optional[int] = None) -> str:
    """This process (or ``pid``) as ``<pid>:<create time>``: survives pid reuse."""
    if pid is None and _MARK and _MARK[0].startswith(f"{os.getpid()}:"):
        return _MARK[0]
    target = os.getpid() if pid is None else pid
    stat = proc_stat(target)
    if stat is None:
        import psutil

        raise psutil.NoSuchProcess(target)
    mark = f"{target}:{stat[1]:.2f}"
    if pid is None:
        _MARK[:] = [mark]
    return mark


def runner_alive(mark: str) -> bool:
    """Is the process ``mark`` names still running (same pid *and* create time)?"""
    pid_text, _, ctime_text = mark.partition(":")
    try:
        pid, ctime = int(pid_text), float(ctime_text)
    except ValueError:
        return False
    stat = proc_stat(pid) if pid > 0 else None
    return stat is not None and abs(stat[1] - ctime) < 0.05 and stat[0] != "Z"


def verified_guest(pid: int, create_time: float, cmdline: List[str], job_id: str, queue: str,
                   vm: Optional[str] = None) -> Optional[psutil.Process]:
    """The process ``pid`` when it is provably that guest of ours, else None.

    All three checks, no shortcut: the job/queue (and vm) markers in its environment,
    its command line (a record without one proves nothing) and its create time. Only
    such a process may be reattached to or signalled on the strength of a record.
    """
    if pid <= 0 or not cmdline or not job_id:
        return None
    import psutil

    try:
        proc = psutil.Process(pid)
        if abs(proc.create_time() - create_time) > 0.05 or proc.cmdline() != list(cmdline):
            return None
        env = proc.environ()
        if env.get(ENV_JOB) != job_id or env.get(ENV_QUEUE) != queue:
            return None
        if vm is not None and env.get(ENV_VM) != vm:
            return None
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc
    except (psutil.Error, OSError):
        return None


def _libvirt_cleanup(job_id: str, queue: Optional[str]) -> int:
    """Remove the libvirt domains (and bridges) of ``job_id``; 0 when libvirt is not in play.

    Runs even in a process that never started a libvirt guest: a resumed job must
    remove the domains a SIGKILLed run left before it starts any guest of its own.
    Only when libvirt is already loaded, or libvirt-python is installed and a local
    daemon socket exists.
    """
    if "kvmtest.vm.libvirt_conn" not in sys.modules:
        if not os.path.exists("/run/libvirt/libvirt-sock") or importlib.util.find_spec("libvirt") is None:
            return 0
    from kvmtest.vm.libvirt_conn import cleanup_domains

    return cleanup_domains(job_id, queue)


def _own_lineage() -> set:
    """This process and its ancestors (read from /proc: cheaper than psutil's ``parents()``)."""
    pids = {os.getpid()}
    pid = os.getppid()
    while pid > 0 and pid not in pids:
        pids.add(pid)
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            break
        pid = int(stat.rpartition(b")")[2].split()[1])  # (the name may hold ')'); field 4: ppid
    return pids


_MARKER = f"{ENV_JOB}=".encode()


def _environ(pid: int) -> Optional[bytes]:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f.read()
    except OSError:  # gone, or another user's
        return None


def marked_processes() -> Iterator[Tuple[psutil.Process, Dict[str, str]]]:
    """Every process with a job marker in its environment (ours excepted), with that environment.

    Every run scans every process of the machine (at its start and end): a bytes search of
    ``/proc/<pid>/environ`` first, so only the few marked processes cost a ``psutil.Process``.
    """
    skip = _own_lineage()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in skip:
            continue
        raw = _environ(int(name))
        if raw is None or _MARKER not in raw:
            continue
        import psutil

        try:
            proc = psutil.Process(int(name))
            env = proc.environ()  # (psutil's parse, as before; the process may be gone by now)
        except (psutil.Error, OSError):
            continue
        if env.get(ENV_JOB):
            yield proc, env


def find_guest_processes(job_id: str, queue: Optional[str] = None) -> List[psutil.Process]:
    """Processes marked as started by ``job_id`` (and ``queue`` when given)."""
    return [proc for proc, env in marked_processes()
            if env[ENV_JOB] == job_id and (queue is None or env.get(ENV_QUEUE) == queue)]


def kill_tree(proc: psutil.Process, sig: int = signal.SIGKILL) -> None:
    """Signal ``proc`` and all its descendants (children first, so none is orphaned)."""
    import psutil

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
    import psutil

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
    try:
        count += _libvirt_cleanup(job_id, queue)
    except Exception as exc:  # libvirt failing must not stop the qemu guests' cleanup
        log.warning("libvirt cleanup failed for job %s: %s", job_id, exc)
    if procs and _wait_dead(procs, 3.0 if sig == signal.SIGKILL else 1.0):
        return count
    if not find_guest_processes(job_id, queue):
        netns.remove_namespaces(job_id, queue)
    return count
