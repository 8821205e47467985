"""Time the parse phase alone: ``Parser().parse_file(f)`` and ``tree.prepare``.

    .venv/bin/python bench/parse_bench.py FILE [FILE...] [--repeat N] [--once]

Prints the best CPU time (process_time) of N parses (each in a fresh Parser,
the cyclic GC as the library leaves it) and of ``prepare`` on the parsed tree.
``--once``: one parse + prepare, nothing printed (for ``valgrind --tool=cachegrind``).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time

# the checkout this script is in (not an installed kvmtest); --src for another (A/B)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv: list) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="*")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--once", action="store_true")
    ap.add_argument("--no-prepare", action="store_true")
    ap.add_argument("--no-teardown", action="store_true",
                    help="--once: end with os._exit (the tree is not freed)")
    ap.add_argument("--src", default=ROOT, help="checkout whose kvmtest to time")
    args = ap.parse_args(argv)
    sys.path.insert(0, args.src)
    from kvmtest.config import Parser
    from kvmtest.config.tree import prepare

    if args.once:
        for f in args.files:
            p = Parser()
            p.parse_file(f)
            if not args.no_prepare:
                prepare(p.node)
        if args.no_teardown:
            os._exit(0)
        return 0
    for f in args.files:
        best_p = best_q = float("inf")
        for _ in range(args.repeat):
            p = Parser()
            t0 = time.process_time()
            p.parse_file(f)
            t1 = time.process_time()
            prepare(p.node)
            t2 = time.process_time()
            best_p, best_q = min(best_p, t1 - t0), min(best_q, t2 - t1)
            del p
            gc.collect()
        print(f"{f}: parse {best_p:.4f} s  prepare {best_q:.4f} s (best of {args.repeat}, CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
