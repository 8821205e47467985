"""Reaching the cluster: an in-process scheduler (``local:``) or an existing one, and the
checks that must pass before any test starts (hosts present, named once, in the plan, same code).

Every check failure is a ``ClusterSetupError`` whose text says what to do; the CLI exits 2.
"""

from __future__ import annotations

import logging
import socket
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

log = logging.getLogger("kvmtest.cluster")

DEFAULT_PORT = 8786
WORKER_TTL = "60s"  # a frozen host is declared lost after this (Dask's default is 5 minutes)


class ClusterSetupError(Exception):
    """The job cannot start on this cluster (missing host, foreign worker, version mismatch)."""


@dataclass
class ClusterOptions:
    """Where the cluster is and how long to wait for it."""

    address: str  # "tcp://HOST:PORT", "tls://HOST:PORT", or "local:[HOST][:PORT]"
    wait_hosts: float = 60.0  # seconds to wait for every planned host's worker
    tls_ca_file: Optional[str] = None
    tls_cert: Optional[str] = None
    tls_key: Optional[str] = None
    stop_wait: float = 60.0  # after a stop, seconds the hosts get to report their results

    def security(self):
        from kvmtest.cluster.worker import security_from

        return security_from(self)


def parse_local(address: str) -> Tuple[str, int]:
    """'local:' -> ('0.0.0.0', 8786); 'local:10.0.0.1:0' -> ('10.0.0.1', 0)."""
    rest = address[len("local:"):]
    host, _, port = rest.rpartition(":") if ":" in rest else (rest, "", "")
    try:
        return host or "0.0.0.0", int(port) if port else DEFAULT_PORT
    except ValueError:
        raise ClusterSetupError(f"--cluster {address!r}: expected local:[HOST][:PORT]") from None


class Cluster:
    """A connected client (and the scheduler, when this process hosts it)."""

    def __init__(self, opts: ClusterOptions) -> None:
        import dask

        dask.config.set({"distributed.scheduler.allowed-failures": 0,
                         "distributed.scheduler.worker-ttl": WORKER_TTL})
        for name in ("distributed", "tornado"):
            logging.getLogger(name).setLevel(logging.ERROR)
        self.opts = opts
        self.cluster = None
        sec = opts.security()
        from distributed import Client

        if opts.address.startswith("local:"):
            from distributed import Scheduler
            from distributed.deploy.spec import SpecCluster

            host, port = parse_local(opts.address)
            self.cluster = SpecCluster(
                workers={}, security=sec,
                scheduler={"cls": Scheduler, "options": {
                    "host": host, "port": port, "dashboard": False, "security": sec,
                    "protocol": "tls" if sec else "tcp", "allowed_failures": 0,
                    "worker_ttl": WORKER_TTL}})
            self.client = Client(self.cluster, security=sec)
            self.address = self.cluster.scheduler_address
        else:
            try:
                self.client = Client(opts.address, security=sec, timeout=30)
            except OSError as exc:
                raise ClusterSetupError(f"cannot reach the scheduler at {opts.address}: {exc}") \
                    from None
            self.address = opts.address
        # a shared scheduler may have been started with retries on: a queue must never re-run
        self.client.run_on_scheduler(_no_retry_on_lost_worker)
        self.names: Dict[str, str] = {}  # worker address -> name

    @property
    def public_address(self) -> str:
        """The address a host's worker must be given (0.0.0.0 replaced by this machine's name)."""
        addr = self.address
        for wildcard in ("0.0.0.0", "[::]"):
            addr = addr.replace(wildcard, socket.getfqdn())
        return addr

    def workers(self) -> Dict[str, Dict[str, Any]]:
        """Connected workers: address -> info (name, nthreads, resources)."""
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        for addr, w in info.items():
            self.names[addr] = str(w.get("name"))
        return info

    def name_of(self, address: str) -> str:
        if address not in self.names:
            try:
                self.workers()
            except Exception:  # the cluster may be going away; the address will do
                pass
        return self.names.get(address, address)

    def close(self) -> None:
        # the scheduler logs CRITICAL when it cannot tell a leaving client that it left
        logging.getLogger("distributed").setLevel(logging.CRITICAL + 1)
        try:
            self.client.close(timeout=10)
        finally:
            if self.cluster is not None:
                self.cluster.close(timeout=10)


def _no_retry_on_lost_worker(dask_scheduler=None) -> int:
    dask_scheduler.allowed_failures = 0
    return dask_scheduler.allowed_failures


def worker_command(public_address: str, host: str, tls: bool) -> str:
    cmd = f"kvmtest worker --scheduler {public_address} --name {host}"
    if tls:
        cmd += " --tls-ca-file CA --tls-cert CERT --tls-key KEY"
    return cmd


def wait_for_hosts(cluster: Cluster, needed: Sequence[str], plan_hosts: Set[str],
                   queues_per_host: Dict[str, int], timeout: float,
                   stop: Callable[[], bool] = lambda: False,
                   say: Callable[[str], None] = print) -> Dict[str, str]:
    """Wait until every host in ``needed`` has a worker; return name -> address.

    Raises ClusterSetupError naming the missing hosts (and the command to run on each),
    a connected worker that is not a host of the plan, or a host with too few threads.
    """
    deadline = time.monotonic() + timeout
    announced = False
    while True:
        by_name: Dict[str, str] = {}
        threads: Dict[str, int] = {}
        for addr, w in cluster.workers().items():
            by_name[str(w.get("name"))] = addr
            threads[str(w.get("name"))] = int(w.get("nthreads", 0))
        foreign = sorted(set(by_name) - plan_hosts)
        if foreign:
            raise ClusterSetupError(
                "worker(s) not in the plan connected to the scheduler: "
                + ", ".join(f"{n} ({by_name[n]})" for n in foreign)
                + f". The plan's hosts are {', '.join(sorted(plan_hosts))}; stop those workers"
                " or start them with --name set to a planned host")
        missing = [h for h in needed if h not in by_name]
        if not missing:
            break
        if stop():
            return {}
        if time.monotonic() >= deadline:
            tls = cluster.opts.tls_cert is not None
            lines = [f"no worker for host(s) {', '.join(missing)} after {timeout:g} s"
                     f" (connected: {', '.join(sorted(by_name)) or 'none'}). On each, run:"]
            lines += [f"  {h}: {worker_command(cluster.public_address, h, tls)}" for h in missing]
            raise ClusterSetupError("\n".join(lines))
        if not announced:
            say(f"[cluster] waiting up to {timeout:g} s for host(s) {', '.join(missing)}"
                f" to join {cluster.public_address}")
            announced = True
        time.sleep(0.2)
    short = [f"{h} has {queues_per_host[h]} queue(s) but its worker only {threads[h]} thread(s)"
             for h in needed if threads[h] < queues_per_host.get(h, 0) + 1]
    if short:
        raise ClusterSetupError("; ".join(short) + ": restart those workers with --nthreads"
                                " at least queues + 1")
    return {h: by_name[h] for h in needed}


def check_versions(cluster: Cluster, hosts: Dict[str, str]) -> Dict[str, Dict[str, Any]]:
    """Every host runs the same kvmtest code and Dask as the coordinator; returns host info."""
    from kvmtest import __version__
    from kvmtest.cluster.hostside import code_hash, host_info

    addrs = list(hosts.values())
    infos = cluster.client.run(host_info, workers=addrs, on_error="return")
    out: Dict[str, Dict[str, Any]] = {}
    problems: List[str] = []
    mine = (__version__, code_hash())
    for host, addr in sorted(hosts.items()):
        info = infos.get(addr)
        if not isinstance(info, dict):
            problems.append(f"{host}: cannot ask its version ({info!r}); is it a 'kvmtest worker'"
                            " of the same kvmtest version?")
            continue
        out[host] = info
        if not info.get("plugin"):
            problems.append(f"{host}: not started with 'kvmtest worker' (no kvmtest plugin)")
        theirs = (info.get("kvmtest"), info.get("code"))
        if theirs != mine:
            problems.append(f"{host}: kvmtest {theirs[0]} (code {theirs[1]}), coordinator has"
                            f" kvmtest {mine[0]} (code {mine[1]})")
    if not problems:
        try:
            cluster.client.get_versions(check=True)
        except ValueError as exc:
            problems.append(f"Dask/Python versions differ between hosts: {exc}")
    if problems:
        raise ClusterSetupError("version mismatch, every host must run the same kvmtest and Dask:"
                                "\n  " + "\n  ".join(problems))
    return out


def preflight_hosts(cluster: Cluster, hosts: Dict[str, str], tests_by_host: Dict[str, list]) -> None:
    """Each host checks its own tests as a local run would (test types, qemu, kernel, images);
    raises ClusterSetupError with one line per problem, naming the host."""
    from kvmtest.cluster.hostside import preflight

    problems: List[str] = []
    for host, tests in sorted(tests_by_host.items()):
        addr = hosts[host]
        answer = cluster.client.run(preflight, tests, workers=[addr], on_error="return")
        lines = answer.get(addr)
        if not isinstance(lines, list):
            problems.append(f"{host}: preflight failed: {lines!r}")
            continue
        problems += [f"{host}: {line}" for line in lines]
    if problems:
        raise ClusterSetupError("the hosts would ERROR these tests; nothing was started:\n  "
                                + "\n  ".join(problems))
