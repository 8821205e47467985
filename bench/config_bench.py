#!/usr/bin/env python3
# ruff: noqa: UP031  (printf-style table formatting)
"""Benchmark: kvmtest.config vs avocado-vt 113.0 on the shared corpus.

    python3 bench/config_bench.py [--files small.cfg,medium.cfg] [--repeat 1]

Installs the reference into bench/.venv-ref (git-ignored) when it is missing,
then runs both tools on the same files in the same run: each writes canonical
JSON lines (map-file keys removed) into sha256, so the digests are compared
too.  Prints wall time, ratio and peak RSS (of the tool's process tree).
Not a unit test: it takes minutes (large.cfg: ~2 minutes for avocado-vt).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV = os.path.join(HERE, ".venv-ref")
REF_PKG = "avocado-framework-plugin-vt==113.0"
DEFAULT_CORPUS = os.path.join(ROOT, "..", "shared", "bench")

REF_DUMP = r"""
import json, sys
from virttest.cartesian_config import Parser
p = Parser()
p.parse_file(sys.argv[1])
w = sys.stdout.write
for d in p.get_dicts():
    d.pop("_name_map_file", None); d.pop("_short_name_map_file", None)
    w(json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n")
"""


def ref_python() -> str:
    """The reference interpreter: $AVREF_PYTHON, else bench/.venv-ref (created on demand)."""
    env = os.environ.get("AVREF_PYTHON")
    if env:
        return env
    py = os.path.join(VENV, "bin", "python")
    ok = os.path.exists(py) and subprocess.run(
        [py, "-c", "import virttest.cartesian_config"], capture_output=True).returncode == 0
    if not ok:
        print("installing %s into %s ..." % (REF_PKG, VENV), flush=True)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", REF_PKG], check=True)
    return py


def run(argv: list) -> tuple:
    """Run argv, hash its stdout; returns (seconds, sha256, lines, peak RSS MiB)."""
    h = hashlib.sha256()
    lines = 0
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, cwd=ROOT)
    for chunk in iter(lambda: proc.stdout.read(1 << 20), b""):
        h.update(chunk)
        lines += chunk.count(b"\n")
    _, status, usage = os.wait4(proc.pid, 0)
    secs = time.perf_counter() - start
    if status != 0:
        raise SystemExit("%s failed with status %s" % (argv, status))
    return secs, h.hexdigest(), lines, usage.ru_maxrss / 1024.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=DEFAULT_CORPUS)
    ap.add_argument("--files", default="small.cfg,medium.cfg,large.cfg")
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool; the best is kept")
    ap.add_argument("--no-ref", action="store_true", help="time kvmtest only")
    args = ap.parse_args()
    ref = None if args.no_ref else ref_python()
    print("%-14s %-8s %9s %9s %8s %8s  %s" % ("file", "tool", "dicts", "seconds", "ratio",
                                             "RSS MiB", "sha256"))
    for name in args.files.split(","):
        path = os.path.join(args.corpus, name)
        ours = [sys.executable, "-m", "kvmtest.config", "--json", path]
        results = {}
        tools = [("kvmtest", ours)] + ([] if ref is None else [("avocado", [ref, "-c", REF_DUMP,
                                                                           path])])
        for tool, argv in tools:
            best = None
            for _ in range(args.repeat):
                r = run(argv)
                best = r if best is None or r[0] < best[0] else best
            results[tool] = best
        base = results.get("avocado")
        for tool, (secs, digest, lines, rss) in results.items():
            ratio = "%7.1fx" % (base[0] / secs) if base and tool == "kvmtest" else ""
            print("%-14s %-8s %9d %9.2f %8s %8.1f  %s" % (name, tool, lines, secs, ratio, rss,
                                                         digest[:16]), flush=True)
        if base and base[1] != results["kvmtest"][1]:
            print("  DIGESTS DIFFER for %s" % name)
    self_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print("max child RSS over the run: %.1f MiB" % (self_usage.ru_maxrss / 1024.0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
