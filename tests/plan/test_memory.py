"""Planning memory grows with what is kept per test, not with each test's names or dict.

A regression guard for issue 11 (a 146,928-test dry run of large.cfg under 200 MB): the
dry run of a mid-size config is traced (tracemalloc, not timed) at two sizes, N and 2N
tests of the same shape with tp-qemu-like names (~30 words, ~400 characters), and the
peak's growth per added test must stay small. Keeping each test's name as a string or a
tuple of words, its table row as a tuple, or a dict entry per test costs ~1 KB a test.
"""

from __future__ import annotations

import argparse
import tracemalloc
from pathlib import Path

from kvmtest.cli import dry_run
from kvmtest.plan import make_parser, new_planner

BOUND = 200  # bytes per test; measured: JSON 108, table 104 (before names were kept compressed
# or as words: 722, 1,610); of it ~32 the compressed names of these synthetic tests and ~40
# the duplicate check's sorted hashes at the end


def _config(path: Path, doublings: int) -> Path:
    """2**doublings tests in 2 queues, each name 30+ words long."""
    lines = ["type = sleep", "start_vm = no"]
    for level in range(doublings):
        lines.append("variants:")
        for k in range(2):
            lines.append(f"    - level{level}_variant{k}_with_a_long_name:")
            lines.append(f"        p{level} = {k}")
            if level == 0:  # (the first block: each queue gets a half)
                lines += [f"        queue = {k + 1}", f"        env = e{k + 1}"]
    for level in range(18):  # one-variant blocks: longer names, no more tests
        lines += ["variants:", f"    - fixed_word_{level}_of_the_name:", f"        f{level} = 1"]
    path.write_text("\n".join(lines) + "\n")
    return path


def _peak(cfg: Path, fmt: str) -> tuple:
    """(tests, peak bytes allocated while planning and listing them) of a dry run."""
    parser = make_parser([str(cfg)])
    planner = new_planner(parser, "here")
    args = argparse.Namespace(all_hosts=True, format=fmt, host=None)

    class Sink:
        def write(self, text: str) -> None:
            pass

    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        dry_run(args, parser, planner, out=Sink())
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return planner.count, peak


def test_dry_run_memory_per_test_stays_small(tmp_path):
    for fmt in ("table", "json"):
        _peak(_config(tmp_path / "warm.cfg", 7), fmt)  # (what the first run imports or caches)
        small, small_peak = _peak(_config(tmp_path / "small.cfg", 11), fmt)
        large, large_peak = _peak(_config(tmp_path / "large.cfg", 12), fmt)
        assert (small, large) == (2048, 4096)
        per_test = (large_peak - small_peak) / (large - small)
        assert per_test < BOUND, f"{fmt}: {per_test:.0f} bytes per test"
