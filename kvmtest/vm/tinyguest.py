"""The tiny guest: host kernel + busybox initramfs, built from host packages.

``python -m kvmtest.vm.tinyguest build`` (``make guest``) writes into
``<data dir>/images/tiny/`` (``kvmtest.paths``: the checkout, ``$KVMTEST_DATA_DIR``
or ``~/.local/share/kvmtest``): ``vmlinuz`` (Debian's linux-image-amd64 kernel from /boot),
``initrd.img`` (a newc cpio written here, with busybox-static, NIC/disk modules
from /lib/modules and an init script) and ``data.qcow2`` (a small data disk so
images and overlays are exercised). A stamp of the inputs makes rebuilds happen
only when something changed.

The init loads the modules, gives each NIC the IP that ``kt.net=MAC,IP/PREFIX+...``
on the kernel command line assigns to its MAC, prints one ``KVMTEST-NIC`` line per
NIC (so console logs show MAC and IP), prints ``KVMTEST-READY`` and offers a
shell (after a login when ``kt.login=1``: root / kvmtest) on the serial console.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from kvmtest.exitcodes import INFRA, OK
from kvmtest.fsutil import atomic_write
from kvmtest.paths import tiny_guest_dir

BUILDER_VERSION = 3
# Where the host's kernel, its modules and a static busybox are looked up.
BOOT = Path("/boot")
MODULES_ROOT = Path("/lib/modules")
BUSYBOX_PATHS = ("/bin/busybox", "/usr/bin/busybox")
MODULES = ["virtio_pci", "virtio_net", "virtio_blk", "e1000", "8139cp", "af_packet"]
DATA_MARKER = b"KVMTEST-DATA-DISK v1"

INIT = r"""#!/bin/sh
export PATH=/bin:/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo 1 > /proc/sys/kernel/printk
for m in $(cat /etc/modules); do insmod /lib/modules/$m.ko 2>/dev/null; done
name=tiny; net=""; login=0
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    kt.name=*) name="${arg#kt.name=}";;
    kt.net=*) net="${arg#kt.net=}";;
    kt.login=*) login="${arg#kt.login=}";;
  esac
done
hostname "$name"
ip link set lo up
want=$(echo "$net" | tr '+' ' ' | wc -w)
n=0
while [ "$(ls /sys/class/net | grep -vc '^lo$')" -lt "$want" ] && [ $n -lt 50 ]; do
  sleep 0.1; n=$((n+1))
done
for dev in /sys/class/net/*; do
  ifc=${dev##*/}
  [ "$ifc" = lo ] && continue
  mac=$(cat "$dev/address"); addr=none
  for ent in $(echo "$net" | tr '+' ' '); do
    m=${ent%%,*}; a=${ent#*,}
    if [ "$m" = "$mac" ] && [ "$a" != "$ent" ] && [ -n "$a" ]; then
      ip addr add "$a" dev "$ifc" && addr=$a
    fi
  done
  ip link set "$ifc" up
  echo "KVMTEST-NIC $ifc mac=$mac ip=$addr"
done
for d in vda vdb sda; do
  [ -b /dev/$d ] && echo "KVMTEST-DISK $d $(head -c 20 /dev/$d | tr -cd 'A-Za-z0-9 .-')"
done
echo "KVMTEST-READY $name"
export PS1='[kt@\h]\$ '
while true; do
  if [ "$login" = 1 ]; then
    printf '%s login: ' "$name"; read -r u
    printf 'Password: '; read -r p
    if [ "$u" != root ] || [ "$p" != kvmtest ]; then echo "Login incorrect"; continue; fi
  fi
  setsid cttyhack sh
done
"""


# -- cpio (newc) writer -----------------------------------------------------------
class Cpio:
    """Just enough of the newc format for an initramfs: dirs, files, symlinks, nodes."""

    def __init__(self) -> None:
        self.buf = io.BytesIO()
        self.ino = 1
        self.seen: set = set()

    def _entry(self, name: str, mode: int, data: bytes = b"", rdev: Tuple[int, int] = (0, 0)) -> None:
        name = name.lstrip("/")
        if name in self.seen:
            return
        self.seen.add(name)
        nb = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(nb), 0]
        self.ino += 1
        hdr = b"070701" + b"".join(f"{f:08X}".encode() for f in fields)
        self.buf.write(hdr + nb)
        self.buf.write(b"\0" * (-(len(hdr) + len(nb)) % 4))
        self.buf.write(data)
        self.buf.write(b"\0" * (-len(data) % 4))

    def dir(self, name: str) -> None:
        parts = name.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            self._entry("/".join(parts[:i]), stat.S_IFDIR | 0o755)

    def file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        self.dir(os.path.dirname(name.strip("/")) or ".")
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name: str, target: str) -> None:
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name: str, major: int, minor: int) -> None:
        self._entry(name, stat.S_IFCHR | 0o600, rdev=(major, minor))

    def finish(self) -> bytes:
        self._entry("TRAILER!!!", 0)
        self.buf.write(b"\0" * (-self.buf.tell() % 512))
        return self.buf.getvalue()


class TinyGuestError(Exception):
    """The tiny guest cannot be built on this host: a package or tool is missing, or a build
    step failed (the message says which and what to install). The host's fault, not the
    config's: ``python -m kvmtest.vm.tinyguest build`` exits 3 (INFRA) with that one line."""


# -- inputs -----------------------------------------------------------------------
def find_kernel(boot: Optional[Path] = None, modroot: Optional[Path] = None) -> Tuple[Path, str]:
    """The newest /boot/vmlinuz-* whose modules are installed."""
    boot = BOOT if boot is None else boot
    modroot = MODULES_ROOT if modroot is None else modroot

    def key(p: Path) -> List[object]:
        return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", p.name)]

    for k in sorted(boot.glob("vmlinuz-*"), key=key, reverse=True):
        release = k.name[len("vmlinuz-"):]
        if (modroot / release / "modules.dep").is_file():
            return k, release
    raise TinyGuestError(f"no {boot}/vmlinuz-* with matching {modroot}/<release>: install linux-image-amd64")


def find_busybox() -> Path:
    for cand in BUSYBOX_PATHS:
        p = Path(cand)
        if p.is_file():
            with open(p, "rb") as fh:
                head = fh.read(4096)
            if b"ld-linux" in head:  # has a program interpreter: dynamically linked
                continue
            return p
    raise TinyGuestError(f"no static busybox in {', '.join(BUSYBOX_PATHS)}: install busybox-static")


def module_closure(release: str, names: List[str], modroot: Path = Path("/lib/modules")) -> List[Path]:
    """Module files for ``names`` and their dependencies, dependencies first."""
    base = modroot / release
    deps: Dict[str, List[str]] = {}
    by_name: Dict[str, str] = {}
    for line in (base / "modules.dep").read_text().splitlines():
        if ":" not in line:
            continue
        mod, rest = line.split(":", 1)
        deps[mod] = rest.split()
        by_name[_modname(mod)] = mod
    order: List[str] = []

    def visit(mod: str) -> None:
        if mod in order:
            return
        for d in reversed(deps.get(mod, [])):
            visit(d)
        order.append(mod)

    for n in names:
        found = by_name.get(n.replace("-", "_"))
        if found is not None:  # built into the kernel otherwise
            visit(found)
    return [base / m for m in order]


def _modname(path: str) -> str:
    n = os.path.basename(path)
    for ext in (".ko.xz", ".ko.zst", ".ko.gz", ".ko"):
        if n.endswith(ext):
            n = n[: -len(ext)]
    return n.replace("-", "_")


def _read_module(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.endswith(".xz"):
        import lzma

        return lzma.decompress(data)
    if path.name.endswith(".gz"):
        return gzip.decompress(data)
    if path.name.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", str(path)], capture_output=True, check=True).stdout
    return data


def inputs_digest(kernel: Path, busybox: Path, modules: List[Path]) -> str:
    h = hashlib.sha256(f"v{BUILDER_VERSION}\n{INIT}".encode())
    for p in [kernel, busybox, *modules]:
        st = p.stat()
        h.update(f"{p}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


# -- build ------------------------------------------------------------------------
def build_initrd(busybox: Path, modules: List[Path]) -> bytes:
    c = Cpio()
    for d in ("bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "root", "lib/modules", "usr/bin", "usr/sbin"):
        c.dir(d)
    c.chardev("dev/console", 5, 1)
    c.chardev("dev/null", 1, 3)
    c.file("bin/busybox", busybox.read_bytes(), 0o755)
    applets = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True).stdout.split()
    for a in applets:
        if a != "busybox":
            c.symlink(f"bin/{a}", "busybox")
    names = []
    for m in modules:
        n = _modname(m.name)
        names.append(n)
        c.file(f"lib/modules/{n}.ko", _read_module(m))
    c.file("etc/modules", ("\n".join(names) + "\n").encode())
    c.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    c.file("init", INIT.encode(), 0o755)
    return gzip.compress(c.finish(), compresslevel=6, mtime=0)


def build_data_disk(out: Path) -> None:
    with tempfile.TemporaryDirectory() as td:
        raw = Path(td) / "data.raw"
        with open(raw, "wb") as fh:
            fh.write(DATA_MARKER + b"\n")
            fh.truncate(8 * 1024 * 1024)
        tmp = out.with_suffix(".tmp")
        res = subprocess.run(["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", str(raw), str(tmp)],
                             capture_output=True, text=True)
        if res.returncode != 0:
            raise TinyGuestError(f"qemu-img convert failed (exit {res.returncode}): {res.stderr.strip()}")
        os.replace(tmp, out)


def build(out: Optional[Path] = None, force: bool = False) -> Dict[str, str]:
    """Build (or reuse) the tiny guest in ``out`` (default: the data dir's); returns the artifact paths."""
    out = out or tiny_guest_dir()
    kernel, release = find_kernel()
    busybox = find_busybox()
    modules = module_closure(release, MODULES)
    digest = inputs_digest(kernel, busybox, modules)
    arts = {"kernel": out / "vmlinuz", "initrd": out / "initrd.img", "data": out / "data.qcow2"}
    stamp = out / "stamp.json"
    result = {k: str(v) for k, v in arts.items()}
    if not force and stamp.exists() and all(p.exists() for p in arts.values()):
        try:
            if json.loads(stamp.read_text()).get("digest") == digest:
                return result
        except ValueError:
            pass
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(arts["kernel"], kernel.read_bytes())
    atomic_write(arts["initrd"], build_initrd(busybox, modules))
    build_data_disk(arts["data"])
    meta = {"digest": digest, "kernel": str(kernel), "release": release, "busybox": str(busybox),
            "modules": [m.name for m in modules]}
    atomic_write(stamp, json.dumps(meta, indent=1).encode())
    return result


def ensure_built(out: Optional[Path] = None) -> Dict[str, str]:
    """For tests and the bench: build if missing or stale (cheap when up to date)."""
    return build(out)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kvmtest.vm.tinyguest")
    sub = ap.add_subparsers(dest="cmd", required=True)
    where = f"build the tiny guest into {tiny_guest_dir()} (cached; rebuilt when inputs change)"
    b = sub.add_parser("build", help=where, description=where + "; docs/guests.md says how the data dir is chosen")
    b.add_argument("--out", type=Path, default=None, help="another directory (default: the data dir's images/tiny)")
    b.add_argument("--force", action="store_true")
    args = ap.parse_args(argv)
    if not shutil.which("qemu-img"):
        print("error: cannot build the tiny guest: qemu-img not found: install qemu-utils", file=sys.stderr)
        return INFRA
    try:
        arts = build(args.out, args.force)
    except (TinyGuestError, OSError) as exc:
        print(f"error: cannot build the tiny guest: {exc}", file=sys.stderr)
        return INFRA
    for k, v in arts.items():
        print(f"{k}: {v}")
    return OK


if __name__ == "__main__":
    sys.exit(main())
