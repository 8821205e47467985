"""The facts about a host that matter when comparing runs: kernel, qemu, CPU model.

Recorded once per run and host in results.json (``job.hosts``), so a result that
got slower or started failing can be told apart from a host that changed under it.
Each fact is "" when it cannot be found (no qemu installed, no /proc/cpuinfo).
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
from functools import lru_cache
from typing import Dict

QEMU = "qemu-system-x86_64"
#: The keys of ``host_facts()``; a cluster host's info has these among others.
FACT_KEYS = ("kernel", "qemu", "cpu_model", "arch", "machine", "kvmtest")


@lru_cache(maxsize=4)
def qemu_version(binary: str = QEMU) -> str:
    """First line of ``qemu --version`` ("QEMU emulator version 7.2.15 ..."), "" without qemu."""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.splitlines()[0].strip() if out else ""


def cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The first ``model name`` of /proc/cpuinfo (x86), else its ``cpu model``/``Processor``."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return platform.processor()
    for key in ("model name", "cpu model", "processor", "cpu"):
        for line in text.splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip().lower() == key and value.strip() and not value.strip().isdigit():
                return value.strip()
    return platform.processor()


def host_facts() -> Dict[str, str]:
    """This machine's facts, as ``job.hosts[<host>]`` records them (docs/results.md)."""
    from kvmtest import __version__

    return {  # FACT_KEYS, in order
        "kernel": os.uname().release,
        "qemu": qemu_version(),
        "cpu_model": cpu_model(),
        "arch": platform.machine(),
        "machine": socket.gethostname(),
        "kvmtest": __version__,
    }


def facts_of(info: Dict[str, object]) -> Dict[str, str]:
    """The FACT_KEYS of a host's info (what a cluster worker reports), as strings."""
    return {k: str(info.get(k) or "") for k in FACT_KEYS}
