#!/usr/bin/env python3
# ruff: noqa: UP031  (printf-style table formatting)
"""Benchmark: kvmtest.config vs avocado-vt 113.0 on the shared corpus.

    AVREF_PYTHON=/opt/avref/bin/python python3 bench/config_bench.py \\
        [--files medium.cfg,large.cfg] [--repeat 1] [--no-ref]

The reference interpreter is $AVREF_PYTHON, else /opt/avref/bin/python if it
has virttest, else bench/.venv-ref (git-ignored; avocado-vt 113.0 installed on
first use).  kvmtest is pip-installed (a regular install of this checkout,
re-done every run) into bench/.venv-ours: both tools run installed the way a
user installs them, each from its own venv, byte-compiled by pip.  Both tools run on the same files in the same run, one after the
other; each writes canonical JSON lines (map-file keys removed) into a
sha256, so the digests are compared too.  Prints, per file and tool: dicts,
wall and CPU seconds (user+sys of the tool's process), the speed ratios
(reference / kvmtest) on both, peak RSS of the process, and the load average
before and after (other users of the machine inflate wall times).
Not a unit test: large.cfg takes minutes (~2 for avocado-vt).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV = os.path.join(HERE, ".venv-ref")
OURS = os.path.join(HERE, ".venv-ours")
REF_PKG = "avocado-framework-plugin-vt==113.0"
DEFAULT_CORPUS = os.path.join(ROOT, "..", "shared", "bench")
OPT_REF = "/opt/avref/bin/python"

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


def _has_virttest(py: str) -> bool:
    return os.path.exists(py) and subprocess.run(
        [py, "-c", "import virttest.cartesian_config"], capture_output=True).returncode == 0


def ref_python() -> str:
    """The reference interpreter (see the module docstring)."""
    env = os.environ.get("AVREF_PYTHON")
    if env:
        return env
    if _has_virttest(OPT_REF):
        return OPT_REF
    py = os.path.join(VENV, "bin", "python")
    if not _has_virttest(py):
        print("installing %s into %s ..." % (REF_PKG, VENV), flush=True)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", REF_PKG], check=True)
    return py


def ours_python() -> str:
    """bench/.venv-ours with this checkout installed (see the module docstring)."""
    py = os.path.join(OURS, "bin", "python")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", OURS], check=True)
    print("installing this checkout into %s ..." % OURS, flush=True)
    # kvmtest.config needs nothing outside the standard library: --no-deps
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", ROOT],
                   check=True, stdout=subprocess.DEVNULL)
    return py


def run(argv: list) -> tuple:
    """Run argv, hash its stdout: (wall s, CPU s, sha256, lines, peak RSS MiB)."""
    h = hashlib.sha256()
    lines = 0
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, cwd=ROOT)
    for chunk in iter(lambda: proc.stdout.read(1 << 20), b""):
        h.update(chunk)
        lines += chunk.count(b"\n")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit("%s failed with status %s" % (argv, status))
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, h.hexdigest(), lines, usage.ru_maxrss / 1024.0


def load() -> str:
    return "%.2f %.2f %.2f" % os.getloadavg()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=DEFAULT_CORPUS)
    ap.add_argument("--files", default="small.cfg,medium.cfg,large.cfg")
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool; the fastest is kept")
    ap.add_argument("--no-ref", action="store_true", help="time kvmtest only")
    args = ap.parse_args()
    ref = None if args.no_ref else ref_python()
    ours_py = ours_python()
    print("kvmtest: %s\navocado-vt: %s" % (ours_py, ref or "-"))
    print("load average before: %s" % load())
    print("%-12s %-8s %8s %8s %8s %8s %8s %8s  %s" % (
        "file", "tool", "dicts", "wall s", "CPU s", "x wall", "x CPU", "RSS MiB", "sha256"))
    differ = False
    for name in args.files.split(","):
        path = os.path.join(args.corpus, name)
        ours = [ours_py, "-m", "kvmtest.config", "--json", path]
        tools = [("kvmtest", ours)]
        if ref is not None:
            tools.append(("avocado", [ref, "-c", REF_DUMP, path]))
        results = {}
        for tool, argv in tools:
            best = None
            for _ in range(args.repeat):
                r = run(argv)
                best = r if best is None or r[1] < best[1] else best
            results[tool] = best
        base = results.get("avocado")
        for tool, (wall, cpu, digest, lines, rss) in results.items():
            xw = xc = ""
            if base and tool == "kvmtest":
                xw, xc = "%7.1fx" % (base[0] / wall), "%7.1fx" % (base[1] / cpu)
            print("%-12s %-8s %8d %8.2f %8.2f %8s %8s %8.1f  %s" % (
                name, tool, lines, wall, cpu, xw, xc, rss, digest[:16]), flush=True)
        if base and base[2] != results["kvmtest"][2]:
            print("  DIGESTS DIFFER for %s" % name)
            differ = True
    print("load average after: %s" % load())
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
