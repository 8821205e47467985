#!/usr/bin/env python3
"""make demo-cluster: a 2-host job on this machine (root).

Creates hostA and hostB as network namespaces joined to this machine by veth pairs
(private addresses only), starts ``kvmtest worker`` in each, runs the ``pair`` set of
samples/cluster/kvm_hosts.cfg through the coordinator (``--cluster local:...``, which hosts
the Dask scheduler), prints the combined summary and removes everything it made.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kvmtest.cluster.lab import Hosts, coordinator_argv, env, netns_unavailable  # noqa: E402


def main() -> int:
    why = netns_unavailable()
    if why:
        print(f"demo-cluster: {why} (network namespaces for the two hosts)", file=sys.stderr)
        return 2
    from kvmtest.cluster import have_distributed

    if not have_distributed():
        print("demo-cluster: Dask distributed is missing: make venv (or pip install"
              " 'kvmtest[cluster]')", file=sys.stderr)
        return 2
    from kvmtest.run import default_results_dir

    results = default_results_dir("cluster-demo").absolute()
    with tempfile.TemporaryDirectory(prefix="kvmtest-demo-cluster-") as tmp:
        lab = Hosts(Path(tmp), ["hostA", "hostB"])
        rc = 1
        try:
            for name, h in lab.hosts.items():
                print(f"demo-cluster: host {name} = namespace {h.ns} ({h.inner}),"
                      f" worker log {Path(tmp) / ('worker-' + name + '.1.log')}", flush=True)
                lab.start(name)
            cmd = coordinator_argv("-c", str(REPO / "samples/cluster/kvm_hosts.cfg"),
                                   "--set", "pair", "--cluster", lab.local,
                                   "--wait-hosts", "120", "--results", str(results))
            print("demo-cluster: " + " ".join(os.path.relpath(c) if c.startswith(str(REPO))
                                            else c for c in cmd), flush=True)
            rc = subprocess.run(cmd, env=env(), cwd=REPO).returncode
        finally:
            left = lab.close()
            print("demo-cluster: workers stopped, namespaces and veths removed"
                  + (f"; LEFT BEHIND: {', '.join(left)}" if left else ""), flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
