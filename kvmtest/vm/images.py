"""Guest disks: a base image is never written; each boot gets a qcow2 overlay.

The overlay lives in the queue's work dir, so two queues booting the same base
image each write only their own overlay (qemu opens the base read-only through
the backing chain). ``snapshot = no`` opts out and boots the image itself.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

from kvmtest.plan.names import check_plain
from kvmtest.vm.errors import VMError
from kvmtest.vm.params import (
    get_bool,
    get_list,
    object_params,
    opt_escape,
    resolve_path,
    single_value,
)

DRIVE_DEVICES = {
    "virtio": "virtio-blk-pci",
    "ide": "ide-hd",
    "scsi": "scsi-hd",
}


@dataclass(frozen=True)
class Drive:
    name: str
    path: Path  # what qemu opens: the overlay, or the image itself with snapshot = no
    fmt: str
    base: Path
    base_fmt: str
    overlay: bool
    interface: str


def image_path(params: Dict[str, str]) -> Path:
    """avocado-vt style: ``image_name`` plus ``.image_format`` unless already there."""
    name = params.get("image_name", "")
    if not name:
        raise VMError("image without image_name")
    fmt = params.get("image_format", "qcow2")
    if fmt != "raw" and not name.endswith("." + fmt):
        name = f"{name}.{fmt}"
    return resolve_path(name, params)


def plan_drives(vm: str, vm_params: Dict[str, str], workdir: Path) -> List[Drive]:
    drives = []
    for img in get_list(vm_params, "images"):
        why = check_plain(img, "image name")
        if why:
            raise VMError(f"{vm}: {why}")
        ip = object_params(vm_params, img)
        fmt = ip.get("image_format", "qcow2")
        try:
            single_value(fmt, "image_format")
        except ValueError as exc:
            raise VMError(f"{vm}: image {img}: {exc}") from None
        base = image_path(ip)
        iface = ip.get("drive_format", "virtio")
        if iface not in DRIVE_DEVICES:
            raise VMError(f"drive_format {iface!r} of image {img} is not one of {', '.join(DRIVE_DEVICES)}")
        snap = get_bool(ip, "snapshot", True)
        path = Path(workdir) / f"{vm}-{img}-overlay.qcow2" if snap else base
        drives.append(Drive(img, path, "qcow2" if snap else fmt, base, fmt, snap, iface))
    return drives


def remove_overlays(vm: str, vm_params: Dict[str, str], workdir: Path) -> None:
    """Delete the per-queue overlays of a guest's drives (base images stay)."""
    for d in plan_drives(vm, vm_params, workdir):
        if d.overlay:
            try:
                d.path.unlink()
            except OSError:
                pass


def create_overlay(base: Path, fmt: str, overlay: Path) -> None:
    """A fresh qcow2 overlay on ``base`` (replacing any old one from an earlier boot)."""
    if not base.is_file():
        raise VMError(f"image {base} does not exist (run `make guest` for the tiny guest)")
    overlay.parent.mkdir(parents=True, exist_ok=True)
    tmp = overlay.with_name(overlay.name + ".tmp")
    argv = ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(base.resolve()), "-F", fmt, str(tmp)]
    res = subprocess.run(argv, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise VMError(f"creating overlay for {base} failed: {res.stderr.strip()}")
    tmp.replace(overlay)


def drive_args(drives: List[Drive]) -> List[str]:
    """qemu argv for the drives (creating overlays as a side effect)."""
    args: List[str] = []
    scsi = False
    for i, d in enumerate(drives):
        if d.overlay:
            create_overlay(d.base, d.base_fmt, d.path)
        elif not d.path.is_file():
            raise VMError(f"image {d.path} does not exist")
        dev_id = f"drive-{d.name}"
        args += ["-blockdev", f"driver=file,filename={opt_escape(str(d.path))},node-name=file-{d.name}",
                 "-blockdev", f"driver={d.fmt},file=file-{d.name},node-name={dev_id}"]
        if d.interface == "scsi" and not scsi:
            args += ["-device", "virtio-scsi-pci,id=scsi0"]
            scsi = True
        dev = DRIVE_DEVICES[d.interface]
        opts = f"{dev},drive={dev_id},id=disk-{d.name}"
        if d.interface == "ide":
            opts += f",bus=ide.{i // 2},unit={i % 2}"
        args += ["-device", opts]
    return args

