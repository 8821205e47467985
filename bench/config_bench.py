#!/usr/bin/env python3
# ruff: noqa: UP031  (printf-style table formatting)
"""Benchmark: kvmtest.config vs avocado-vt 113.0 on the shared corpus.

    AVREF_PYTHON=/opt/avref/bin/python python3 bench/config_bench.py \\
        [--files medium.cfg,large.cfg,qemu/subtests.cfg] [--modes cli,lib]
        [--repeat auto|N] [--budget 20] [--no-ref] [--builds compiled,pure]

Two ways of using each parser, each timed for both tools in the same run:
``cli`` writes every dict as a canonical JSON line (kvmtest: ``python -m
kvmtest.config --json FILE``); ``lib`` is a script on the public API with
default settings: ``Parser().parse_file(FILE)``, then iterate
``get_dicts()`` (the dicts are not encoded: that is the caller's cost).  The
``lib`` digest comes from a second, untimed run of the same script that also
dumps each dict; avocado-vt's is its ``cli`` run (the same get_dicts()).

The reference interpreter is $AVREF_PYTHON, else /opt/avref/bin/python if it
has virttest, else bench/.venv-ref (git-ignored; avocado-vt 113.0 installed on
first use).  kvmtest is pip-installed (a regular install of this checkout)
into bench/.venv-ours: the mypyc-compiled build (``--builds compiled``, the
default: the wheel of bench/builds.py, compiled once per source state and
reinstalled only when it changed); ``--builds pure`` benches the pure-Python
install in bench/.venv-ours-pure, ``compiled,pure`` both (a row each, the
``build`` column).  Both tools run installed the way a user installs them,
each from its own venv, byte-compiled by pip.  Both tools run on the same
files in the same run, interleaved: a round runs each tool once, the fastest
run of each is kept, and with more than one round each round's own ratio is
printed as a range and median.  ``--repeat auto`` (the default) runs as many
rounds as fill ``--budget`` seconds of the first tool's (avocado-vt's) time,
1 to 15: one for large.cfg, two for medium.cfg, ten for qemu/subtests.cfg,
whose 0.2 s kvmtest runs are otherwise one draw of this VM's drifting speed.
Each tool writes canonical JSON lines (map-file keys removed) into a sha256,
so the digests are compared too.  Prints, per file and tool: dicts,
wall and CPU seconds (user+sys of the tool's process), the speed ratios
(reference / kvmtest) on both, peak RSS of the process, and the load average
before and after (other users of the machine inflate wall times).
Not a unit test: large.cfg takes minutes (~2 for avocado-vt).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV = os.path.join(HERE, ".venv-ref")
OURS = {"compiled": os.path.join(HERE, ".venv-ours"), "pure": os.path.join(HERE, ".venv-ours-pure")}
BUILD_NAMES = {"compiled": "compiled (mypyc)", "pure": "pure Python"}
REF_PKG = "avocado-framework-plugin-vt==113.0"
DEFAULT_CORPUS = os.path.join(ROOT, "..", "shared", "bench")
OPT_REF = "/opt/avref/bin/python"
MAX_ROUNDS = 15  # --repeat auto's ceiling
# every tool runs from here: a directory with no kvmtest/ in it, as ``python -c`` and
# ``python -m`` put the current directory first on sys.path (from the checkout's root
# they would import the checkout's sources, not the install under test)
RUN_DIR = os.path.join(HERE, "out")

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


LIB_TIMED = r"""
import sys
%s
p = Parser()
p.parse_file(sys.argv[1])
n = 0
for d in p.get_dicts():
    n += 1
sys.stdout.write("%%d\n" %% n)
"""
OURS_IMPORT = "from kvmtest.config import Parser"
REF_IMPORT = "from virttest.cartesian_config import Parser"
# kvmtest's get_dicts() dumped as REF_DUMP dumps avocado-vt's (the lib digest)
OURS_LIB_DUMP = REF_DUMP.replace(REF_IMPORT, OURS_IMPORT)


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


def ours_python(build: str) -> str:
    """The venv with this checkout installed as ``build`` (see the module docstring)."""
    import builds  # (bench/builds.py)

    venv = OURS[build]
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    what = builds.wheel() if build == "compiled" else ROOT
    stamp = os.path.join(venv, ".kvmtest-installed")
    key = "%s %s" % (what, builds.source_key())
    if not os.path.exists(stamp) or open(stamp).read() != key:
        print("installing this checkout (%s) into %s ..." % (BUILD_NAMES[build], venv),
              flush=True)
        # kvmtest.config needs nothing outside the standard library: --no-deps
        subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", what],
                       check=True, stdout=subprocess.DEVNULL)
        with open(stamp, "w") as f:
            f.write(key)
    got = subprocess.run([py, "-c", "import kvmtest.config as c; print(c.BUILD)"], cwd=RUN_DIR,
                         capture_output=True, text=True, check=True).stdout.strip()
    if got != BUILD_NAMES[build]:
        raise SystemExit("%s runs kvmtest.config %s, not %s" % (py, got, BUILD_NAMES[build]))
    return py


def run(argv: list) -> tuple:
    """Run argv, hash its stdout: (wall s, CPU s, sha256, lines, peak RSS MiB)."""
    h = hashlib.sha256()
    lines = 0
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, cwd=RUN_DIR)
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


def auto_rounds(first_cpu: float, budget: float) -> int:
    """Rounds for a file whose first run (the reference's, else kvmtest's) took
    ``first_cpu`` seconds: enough for ``budget`` seconds of it, 1 to MAX_ROUNDS.

    A short file is timed more often (as timeit's autorange does): the best of
    one 0.2 s run is a draw from this VM's drifting speed, the best of ten is not.
    """
    if first_cpu <= 0:
        return MAX_ROUNDS
    return max(1, min(MAX_ROUNDS, math.ceil(budget / first_cpu)))


def best_interleaved(argvs: list, repeat: int, budget: float = 0.0) -> tuple:
    """Run each of ``argvs`` once per round, ``repeat`` rounds (0: auto_rounds()
    with ``budget``): (best run per argv, CPU per round).

    Round by round, so a slow phase of this machine (a 2-vCPU guest whose speed drifts by up
    to 2x for seconds to minutes) falls on every tool alike instead of on one tool's batch.
    """
    bests = [None] * len(argvs)
    rounds = []
    target = repeat or 1
    while len(rounds) < target:
        cpus = []
        for i, argv in enumerate(argvs):
            r = run(argv)
            cpus.append(r[1])
            bests[i] = r if bests[i] is None or r[1] < bests[i][1] else bests[i]
        rounds.append(cpus)
        if not repeat and len(rounds) == 1:
            target = auto_rounds(cpus[0], budget)
    return bests, rounds


def rounds_arg(text: str) -> int:
    """``--repeat``: a count of rounds, or auto (0)."""
    if text == "auto":
        return 0
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("a count of rounds (1 or more) or auto, not %r" % text)
    return int(text)


def round_ratios(rounds: list, col: int) -> str:
    """Each round's avocado-vt CPU / kvmtest CPU (column ``col``): the spread behind the best."""
    xs = sorted(r[0] / r[col] for r in rounds)
    return "%.1fx-%.1fx, median %.1fx" % (xs[0], xs[-1], xs[len(xs) // 2])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=DEFAULT_CORPUS)
    ap.add_argument("--files", default="small.cfg,medium.cfg,large.cfg")
    ap.add_argument("--modes", default="cli,lib", help="cli (--json lines), lib (get_dicts())")
    ap.add_argument("--repeat", type=rounds_arg, default="auto",
                    help="rounds (each tool once a round; the fastest run of each is kept), "
                         "or auto: enough rounds for --budget seconds of the first tool")
    ap.add_argument("--budget", type=float, default=20.0,
                    help="with --repeat auto: seconds of the first tool's runs per file and "
                         "mode (default 20: 10 rounds of subtests.cfg, 2 of medium, 1 of large)")
    ap.add_argument("--no-ref", action="store_true", help="time kvmtest only")
    ap.add_argument("--builds", default="compiled",
                    help="kvmtest builds to time: compiled (mypyc), pure, or both (a row each)")
    args = ap.parse_args()
    os.makedirs(RUN_DIR, exist_ok=True)
    built = [b for b in args.builds.split(",") if b]
    for b in built:
        if b not in OURS:
            raise SystemExit("unknown build %r (compiled, pure)" % b)
    ref = None if args.no_ref else ref_python()
    pys = {b: ours_python(b) for b in built}
    modes = [m for m in args.modes.split(",") if m]
    for b in built:
        print("kvmtest %s: %s" % (BUILD_NAMES[b], pys[b]))
    print("avocado-vt: %s" % (ref or "-"))
    print("load average before: %s" % load())
    print("%-18s %-4s %-8s %7s %17s %17s %15s %13s  %s" % (
        "file", "mode", "build", "dicts", "avocado wall/CPU", "kvmtest wall/CPU", "x wall/x CPU",
        "RSS MiB k/a", "sha256 (kvmtest = avocado)"))
    differ = False
    for name in args.files.split(","):
        path = os.path.join(args.corpus, name)
        ref_cli = None
        for mode in modes:
            if mode not in ("cli", "lib"):
                raise SystemExit("unknown mode %r" % mode)
            base = None
            timed = []  # the argvs timed, interleaved: avocado-vt's (if any), then each build's
            if ref is not None:
                timed.append([ref, "-c", REF_DUMP if mode == "cli" else LIB_TIMED % REF_IMPORT,
                              path])
            for b in built:
                timed.append([pys[b], "-m", "kvmtest.config", "--json", path] if mode == "cli"
                             else [pys[b], "-c", LIB_TIMED % OURS_IMPORT, path])
            bests, rounds = best_interleaved(timed, args.repeat, args.budget)
            if ref is not None:
                base = bests[0]
                if mode == "cli":
                    ref_cli = base
                elif ref_cli is None:  # the reference's dicts, dumped
                    ref_cli = run([ref, "-c", REF_DUMP, path])
            for col, b in enumerate(built, start=len(timed) - len(built)):
                ours_py = pys[b]
                ours = bests[col]
                if mode == "cli":
                    digest, lines = ours[2], ours[3]
                else:
                    dump = run([ours_py, "-c", OURS_LIB_DUMP, path])  # (untimed: the digest)
                    digest, lines = dump[2], dump[3]
                if base is None or ref_cli is None:
                    print("%-18s %-4s %-8s %7d %17s %8.2f / %6.2f %15s %6.1f / %4s  %s" % (
                        name, mode, b, lines, "-", ours[0], ours[1], "-", ours[4], "-",
                        digest[:16]), flush=True)
                    continue
                same = digest == ref_cli[2]
                differ = differ or not same
                print("%-18s %-4s %-8s %7d %8.2f / %6.2f %8.2f / %6.2f %6.1fx/%6.1fx %6.1f / %4.0f"
                      "  %s %s" % (
                          name, mode, b, lines, base[0], base[1], ours[0], ours[1],
                          base[0] / ours[0], base[1] / ours[1], ours[4], base[4], digest[:16],
                          "=" if same else "DIGESTS DIFFER (avocado-vt %s)" % ref_cli[2][:16]),
                      flush=True)
                if base is not None and len(rounds) > 1:
                    print("%-18s %-4s %-8s %d rounds: x CPU %s" % (
                        "", "", "", len(rounds), round_ratios(rounds, col)), flush=True)
    print("load average after: %s" % load())
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
