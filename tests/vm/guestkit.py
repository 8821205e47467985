"""Shared helpers for the guest tests (tests/vm and tests/testtypes).

Guests here are real qemu processes booting the tiny guest under TCG.
Every test job id starts with ``pytest-<pid>`` so the session finalizer in
tests/conftest.py can prove (and enforce) that no qemu outlived the suite.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Dict, List, Optional

from kvmtest.plan.model import Address
from kvmtest.vm import netns
from kvmtest.vm.context import TestContext
from kvmtest.vm.reaper import kill_guests

JOB_PREFIX = f"pytest-{os.getpid()}"
TINY_CFG = Path(__file__).resolve().parents[2] / "cfg" / "tiny-guest.cfg"


def have_guest_tools() -> Optional[str]:
    """Why guest tests cannot run here, or None."""
    for tool in ("qemu-system-x86_64", "qemu-img", "ip"):
        if not shutil.which(tool):
            return f"{tool} not installed"
    return None


def tiny_params(**overrides: str) -> Dict[str, str]:
    """cfg/tiny-guest.cfg (plain assignments only) under TCG, plus overrides."""
    params: Dict[str, str] = {}
    for line in TINY_CFG.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        params[key.strip()] = value.strip()
    params["accel"] = "tcg"
    params.update(overrides)
    return params


_seq = [0]


def job_id(tag: str) -> str:
    _seq[0] += 1
    return f"{JOB_PREFIX}-{tag}{_seq[0]}"


def context(tmp: Path, params: Dict[str, str], job: str, name: str = "t",
            addresses: Optional[List[Address]] = None, queue: str = "q1") -> TestContext:
    return TestContext(
        name=name, shortname=name, params=params, logdir=tmp / "logs" / name,
        workdir=tmp / "work", job_id=job, queue=queue, addresses=list(addresses or []),
    )


def leftover_guests() -> List[int]:
    """Pids of qemus started by this pytest process's jobs that are still running."""
    import psutil

    pids = []
    for proc in psutil.process_iter(["pid"]):
        try:
            job = proc.environ().get("KVMTEST_JOB", "")
        except (psutil.Error, OSError):
            continue
        if job.startswith(JOB_PREFIX):
            pids.append(proc.pid)
    return pids


def cleanup_job(job: str) -> int:
    """What the runner does at queue end: kill the job's guests and namespaces."""
    n = kill_guests(job)
    netns.remove_namespaces(job)
    return n


def remove_stale_namespaces() -> List[str]:
    """Remove (and name) the network namespaces of this pytest process's jobs."""
    stale = [n for n in netns.list_namespaces() if n.startswith(netns.PREFIX + JOB_PREFIX.replace("-", "_"))]
    for n in stale:
        netns.remove_namespaces(n[len(netns.PREFIX):].split("-")[0])
    return stale
