#!/usr/bin/env python3
"""Boot-to-prompt of the tiny guest: through kvmtest vs the same qemu command by hand.

Each repetition boots once through kvmtest (QemuVM.create + wait_for_login:
argv building, overlay creation, console connection, login) and once by hand
(the very argv kvmtest saved, started with Popen, pexpect on the same serial
socket, same login answers), alternating so both see the same machine load.
Prints both series, medians and minima, and kvmtest's overhead as the median
of the per-repetition (paired) differences; exits 1 when that exceeds
--max-overhead percent (default 10).

    python3 bench/boot_bench.py [--reps 5] [--accel tcg]
"""

from __future__ import annotations

import argparse
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pexpect.fdpexpect  # noqa: E402

from kvmtest.vm.base import make_vm  # noqa: E402
from kvmtest.vm.context import TestContext  # noqa: E402
from kvmtest.vm.params import resolve_path  # noqa: E402
from kvmtest.vm.tinyguest import ensure_built  # noqa: E402


def tiny_params(accel: str) -> dict:
    params = {}
    for line in (ROOT / "cfg" / "tiny-guest.cfg").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            k, _, v = line.partition("=")
            params[k.strip()] = v.strip()
    params["accel"] = accel
    return params


def boot_kvmtest(params: dict, tmp: Path, rep: int) -> tuple:
    test = TestContext(name="bench", shortname="bench", params=params, logdir=tmp / f"logs{rep}",
                       workdir=tmp / "work", job_id=f"bench-{rep}", queue="b")
    test.logdir.mkdir(parents=True)
    vm = make_vm("vm1", params, test)
    t0 = time.monotonic()
    vm.create()
    vm.wait_for_login(120)
    elapsed = time.monotonic() - t0
    argv = shlex.split((test.logdir / "qemu-vm1.cmdline").read_text())
    vm.destroy(gracefully=False)
    return elapsed, argv


def boot_by_hand(argv: list, params: dict, tmp: Path) -> float:
    # Same argv, same sockets; the overlay is made outside the timing (kvmtest's is inside).
    overlay = next(a.split("filename=")[1].split(",")[0] for a in argv if "filename=" in a)
    base = tiny_params("tcg")["image_name_data"] + ".qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(resolve_path(base)), "-F", "qcow2",
                    overlay], check=True)
    console = next(a.split("path=")[1].split(",")[0] for a in argv if a.startswith("socket,id=console0"))
    Path(console).unlink(missing_ok=True)
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(console)
                break
            except OSError:
                s.close()
                time.sleep(0.02)
        child = pexpect.fdpexpect.fdspawn(s.fileno(), encoding="utf-8", codec_errors="replace", timeout=120)
        child.delaybeforesend = None  # no artificial 50 ms per send in the baseline either
        child.expect(params["login_prompt"])
        child.send(params["username"] + "\n")
        child.expect("Password:")
        child.send(params["password"] + "\n")
        child.expect(params["shell_prompt"])
        elapsed = time.monotonic() - t0
        s.close()
        return elapsed
    finally:
        proc.kill()
        proc.wait()
        Path(overlay).unlink(missing_ok=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--accel", default="tcg")
    ap.add_argument("--max-overhead", type=float, default=10.0)
    args = ap.parse_args()
    ensure_built()
    params = tiny_params(args.accel)
    kt, hand = [], []
    with tempfile.TemporaryDirectory(prefix="ktbench") as td:
        tmp = Path(td)
        for rep in range(args.reps):
            k, argv = boot_kvmtest(params, tmp, rep)
            h = boot_by_hand(argv, params, tmp)
            kt.append(k)
            hand.append(h)
            print(f"rep {rep + 1}: kvmtest {k:.2f} s, by hand {h:.2f} s", flush=True)
    mk, mh = statistics.median(kt), statistics.median(hand)
    paired = statistics.median((k - h) / h * 100 for k, h in zip(kt, hand))
    print(f"kvmtest boot-to-prompt: median {mk:.2f} s, min {min(kt):.2f} s  {[round(x, 2) for x in kt]}")
    print(f"by hand boot-to-prompt: median {mh:.2f} s, min {min(hand):.2f} s  {[round(x, 2) for x in hand]}")
    print(f"overhead of medians {(mk - mh) / mh * 100:+.1f} %, of minima {(min(kt) - min(hand)) / min(hand) * 100:+.1f} %")
    # Gate on the paired figure: each kvmtest boot is compared with the by-hand boot
    # right after it, so load from other processes on a shared machine mostly cancels.
    print(f"overhead (median of paired reps): {paired:+.1f} % (limit {args.max_overhead:g} %)")
    return 0 if paired <= args.max_overhead else 1


if __name__ == "__main__":
    sys.exit(main())
