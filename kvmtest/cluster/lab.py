"""A lab of hosts on this machine, for the demo, the tests and the benchmark (root only).

One network namespace per host.

Each host is a namespace joined to the root namespace by a veth pair with private
addresses (10.R.i.1/30 here, 10.R.i.2/30 there); the coordinator's scheduler listens on the
first pair's root-side address. A host's worker runs as ``ip netns exec NS run.py worker``.

Not in a PID namespace of its own: kvmtest marks guests with their runner's pid
(kvmtest/vm/orphans.py), and a pid from another PID namespace would make every other kvmtest
run on this machine take the host's guests for orphans. So SIGKILL of a worker is a worker
crash, not a power loss: its guests and children outlive it until the restarted worker (or
any later run) reaps them. Everything is removed at the end; ``Hosts.close`` reports what
was left behind.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import psutil

REPO = Path(__file__).resolve().parents[2]


def netns_unavailable() -> Optional[str]:
    """Why namespace tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root"
    for tool in ("ip",):
        if not shutil.which(tool):
            return f"{tool} not installed"
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def _used_second_octets() -> set:
    out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout
    used = set()
    for word in out.split():
        if word.startswith("10."):
            used.add(int(word.split(".")[1]))
    return used


def free_port(addr: str) -> int:
    with socket.socket() as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def env() -> Dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(REPO) + os.pathsep + e.get("PYTHONPATH", "")
    e["PYTHONUNBUFFERED"] = "1"
    return e


@dataclass
class Host:
    name: str
    ns: str
    veth: str
    inner: str  # address inside the namespace
    outer: str  # root-side address of its veth
    proc: Optional[subprocess.Popen] = None
    log: Optional[Path] = None
    starts: int = 0


@dataclass
class Hosts:
    """Namespaces named kt<tag>-<i>; the scheduler address is ``sched``."""

    tmp: Path
    names: List[str]
    tag: str = field(default_factory=lambda: f"{random.getrandbits(24):06x}")
    hosts: Dict[str, Host] = field(default_factory=dict)

    def __post_init__(self) -> None:
        used = _used_second_octets()
        octet = random.choice([o for o in range(100, 250) if o not in used])
        try:
            for i, name in enumerate(self.names):
                ns, veth = f"kt{self.tag}-{i}", f"kt{self.tag}v{i}"
                outer, inner = f"10.{octet}.{i}.1", f"10.{octet}.{i}.2"
                h = self.hosts[name] = Host(name, ns, veth, inner, outer)
                _ip("netns", "add", ns)
                _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
                _ip("addr", "add", f"{outer}/30", "dev", veth)
                _ip("link", "set", veth, "up")
                _ip("-n", ns, "addr", "add", f"{inner}/30", "dev", "eth0")
                _ip("-n", ns, "link", "set", "eth0", "up")
                _ip("-n", ns, "link", "set", "lo", "up")
            self.sched_ip = self.hosts[self.names[0]].outer
            for h in self.hosts.values():
                if h.outer != self.sched_ip:
                    _ip("-n", h.ns, "route", "add", f"{self.sched_ip}/32", "via", h.outer)
            self.port = free_port(self.sched_ip)
        except Exception:
            self.close(check=False)
            raise

    @property
    def local(self) -> str:
        """The coordinator's --cluster value: an in-process scheduler on the first veth."""
        return f"local:{self.sched_ip}:{self.port}"

    @property
    def scheduler(self) -> str:
        return f"tcp://{self.sched_ip}:{self.port}"

    def worker_argv(self, name: str, *extra: str, as_name: Optional[str] = None,
                    python: str = sys.executable, checkout: Path = REPO) -> List[str]:
        h = self.hosts[name]
        return ["ip", "netns", "exec", h.ns, "env", f"PYTHONPATH={checkout}", python,
                str(checkout / "run.py"), "worker", "--scheduler", self.scheduler,
                "--name", as_name or name, "--host", h.inner,
                "--workdir", str(self.tmp / f"worker-{name}"), *extra]

    def start(self, name: str, *extra: str, **kw) -> subprocess.Popen:
        h = self.hosts[name]
        h.starts += 1
        h.log = self.tmp / f"worker-{name}.{h.starts}.log"
        with open(h.log, "w") as out:
            h.proc = subprocess.Popen(self.worker_argv(name, *extra, **kw), env=env(),
                                      stdout=out, stderr=subprocess.STDOUT, cwd=REPO,
                                      start_new_session=True)
        return h.proc

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal the host's worker process (``ip netns exec`` execs it: same pid) and wait."""
        h = self.hosts[name]
        if h.proc is not None and h.proc.poll() is None:
            h.proc.send_signal(sig)
            h.proc.wait(60)

    def partition(self, name: str, cut: bool = True) -> None:
        """Drop (or stop dropping) every packet in and out of the host's namespace."""
        h = self.hosts[name]
        op = "-I" if cut else "-D"
        for chain in ("INPUT", "OUTPUT"):
            subprocess.run(["ip", "netns", "exec", h.ns, "iptables", op, chain, "-j", "DROP"],
                           check=True, capture_output=True)

    def ns_processes(self) -> List[psutil.Process]:
        """Processes still running inside any of our namespaces."""
        inodes = set()
        for h in self.hosts.values():
            try:
                inodes.add(os.stat(f"/run/netns/{h.ns}").st_ino)
            except OSError:
                pass
        out = []
        for p in psutil.process_iter(["pid"]):
            try:
                if os.stat(f"/proc/{p.pid}/ns/net").st_ino in inodes:
                    out.append(p)
            except OSError:
                pass
        return out

    def close(self, check: bool = True) -> List[str]:
        """Stop every worker, remove the namespaces and veths; return what was left behind."""
        for h in self.hosts.values():
            if h.proc is not None and h.proc.poll() is None:
                h.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 40
        for h in self.hosts.values():
            if h.proc is not None:
                try:
                    h.proc.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    h.proc.kill()
                    h.proc.wait()
        left = [f"pid {p.pid} {p.name()}" for p in self.ns_processes()]
        for p in self.ns_processes():
            p.kill()
        for h in self.hosts.values():
            subprocess.run(["ip", "netns", "del", h.ns], capture_output=True)
            subprocess.run(["ip", "link", "del", h.veth], capture_output=True)
        left += [f"netns {h.ns}" for h in self.hosts.values() if os.path.exists(f"/run/netns/{h.ns}")]
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
        left += [f"link {h.veth}" for h in self.hosts.values() if f" {h.veth}@" in links
                 or f" {h.veth}:" in links]
        return left


def coordinator_argv(*args: str) -> List[str]:
    return [sys.executable, str(REPO / "run.py"), *args]
