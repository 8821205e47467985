"""Preflight: what would make every test of a kind ERROR, found before anything starts.

An unknown test ``type``, an unknown ``vm_type``, a ``qemu_binary`` that is not there,
a missing kernel, initrd or image file, ``vm_type = libvirt`` with no daemon answering:
each is known from the plan alone. The run refuses to start on them, and the dry run shows
them. So a dry run that passes means the run will start. Problems that many tests share
are grouped into one line with a count and an example test.

Only this host's tests are checked: another host's files and daemons are that host's
business. Each distinct value is checked once (a ``Preflight`` caches per value), so a
150,000-test dry run pays a few dict lookups per test.

The checks use what ``vm`` and ``testtypes`` know (the backends' registry, the path rules,
``testtypes.load``) rather than a second copy of those rules.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

from kvmtest.plan.errors import PlanError
from kvmtest.plan.model import PlannedTest

SHOWN_PER_KIND = 5  # distinct problems of one kind listed before "and N more"

_VM_KEYS = ("vm_type", "qemu_binary", "kernel", "initrd", "images", "images_base_dir",
            "libvirt_uri")
_IMAGE_KEYS = ("image_name", "image_format", "images_base_dir")


class PreflightError(PlanError):
    """The run would ERROR tests for reasons known now; one line per problem."""


@dataclass
class _Problem:
    kind: str
    text: str
    count: int = 0
    example: str = ""


@dataclass
class PreflightReport:
    errors: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)

    def raise_errors(self) -> None:
        if self.errors:
            raise PreflightError("\n".join(self.errors))


def _value(params: Mapping[str, str], key: str, *objects: str) -> Optional[str]:
    """``key`` as the innermost of ``objects`` sees it (avocado-vt's object_params chain)."""
    if len(objects) == 2:
        v = params.get(f"{key}_{objects[1]}_{objects[0]}")
        if v is not None:
            return v
    for obj in reversed(objects):
        v = params.get(f"{key}_{obj}")
        if v is not None:
            return v
    return params.get(key)


class Preflight:
    """Fed this host's planned tests (``add``), then ``report``."""

    def __init__(self) -> None:
        self._problems: Dict[Tuple[str, str], _Problem] = {}
        self._types: Dict[Tuple[str, str], Tuple[Optional[str], bool]] = {}
        self._guests: Dict[Tuple, List[Tuple[str, str]]] = {}
        self._libvirt: Dict[str, Optional[str]] = {}
        self.tests = 0

    # -- per test ---------------------------------------------------------------
    def add(self, test: PlannedTest) -> None:
        self.tests += 1
        p = test.params
        ttype = p.get("type", "")
        dirs = p.get("test_dirs", "")
        verdict = self._types.get((ttype, dirs))
        if verdict is None:
            verdict = self._types[(ttype, dirs)] = self._check_type(ttype, dirs)
        why, starts_vm = verdict
        if why:
            self._note("type", why, test)
            return
        raw = p.get("start_vm")
        if raw is not None and raw.strip():
            starts_vm = raw.strip().lower() in ("yes", "true", "on", "1", "y")
        if not starts_vm:
            return
        vms = (p.get("vms") or p.get("main_vm") or "vm1").split()
        for vm in vms:
            key = tuple(_value(p, k, vm) for k in _VM_KEYS)
            images = (key[4] or "").split()
            key += tuple(_value(p, k, vm, img) for img in images for k in _IMAGE_KEYS)
            found = self._guests.get(key)
            if found is None:
                found = self._guests[key] = self._check_guest(vm, key, images)
            for kind, why in found:
                self._note(kind, why, test)

    def _note(self, kind: str, text: str, test: PlannedTest) -> None:
        prob = self._problems.get((kind, text))
        if prob is None:
            prob = self._problems[(kind, text)] = _Problem(kind, text, 0, test.shortname)
        prob.count += 1

    # -- checks, once per distinct value -------------------------------------------
    @staticmethod
    def _check_type(ttype: str, dirs: str) -> Tuple[Optional[str], bool]:
        """(why the type cannot run or None, whether it boots guests by default)."""
        from kvmtest import testtypes

        try:
            module = testtypes.load(ttype, dirs.split())
        except testtypes.TestError as exc:
            return str(exc), False
        except Exception as exc:  # a test module that does not import: every test would ERROR
            return f"test type {ttype!r} cannot be loaded: {type(exc).__name__}: {exc}", False
        return None, bool(getattr(module, "START_VM", True))

    def _check_guest(self, vm: str, key: Tuple, images: List[str]) -> List[Tuple[str, str]]:
        from kvmtest.vm.base import known_vm_types
        from kvmtest.vm.errors import VMError
        from kvmtest.vm.images import image_path
        from kvmtest.vm.params import resolve_path

        vm_type, qemu, kernel, initrd, _, base_dir, uri = key[:7]
        vm_type = vm_type or "qemu"
        out: List[Tuple[str, str]] = []
        known = known_vm_types()
        if vm_type not in known:
            return [("vm_type", f"unknown vm_type {vm_type!r} for guest {vm}"
                                f" (known: {', '.join(known)})")]
        if vm_type == "libvirt":
            why = self._check_libvirt(uri or "")
            if why:
                out.append(("libvirt", why))
        if qemu or vm_type == "qemu":
            qemu = qemu or "qemu-system-x86_64"
            if not shutil.which(qemu):
                out.append(("qemu_binary", f"qemu_binary {qemu!r} of guest {vm} is not an"
                                           " executable file nor a command on PATH"))
        where = {"images_base_dir": base_dir} if base_dir else {}
        for what, value in (("kernel", kernel), ("initrd", initrd if kernel else None)):
            if value:
                path = resolve_path(value, where)
                if not path.is_file():
                    out.append(("file", f"{what} {value!r} of guest {vm}: no such file"
                                        f" ({path})"))
        for n, img in enumerate(images):
            name, fmt, img_base = key[7 + 3 * n: 10 + 3 * n]
            ip = {"image_name": name or "", "image_format": fmt or "qcow2"}
            if img_base:
                ip["images_base_dir"] = img_base
            try:
                path = image_path(ip)
            except VMError as exc:
                out.append(("file", f"image {img} of guest {vm}: {exc}"))
                continue
            if not path.is_file():
                hint = " (run `make guest` for the tiny guest)" if "tiny" in str(path) else ""
                out.append(("file", f"image {img} of guest {vm}: no such file {path}{hint}"))
        return out

    def _check_libvirt(self, uri: str) -> Optional[str]:
        from kvmtest.vm.errors import VMError
        from kvmtest.vm.libvirt_conn import DEFAULT_URI, connect

        uri = uri.strip() or DEFAULT_URI
        if uri not in self._libvirt:
            try:
                connect(uri)
                self._libvirt[uri] = None
            except VMError as exc:
                self._libvirt[uri] = f"vm_type = libvirt: {exc}"
        return self._libvirt[uri]

    # -- result -------------------------------------------------------------------
    def report(self) -> PreflightReport:
        report = PreflightReport()
        by_kind: Dict[str, List[_Problem]] = {}
        for prob in self._problems.values():
            by_kind.setdefault(prob.kind, []).append(prob)
        for kind, probs in by_kind.items():
            probs.sort(key=lambda p: -p.count)
            for prob in probs[:SHOWN_PER_KIND]:
                report.errors.append(f"{prob.text} ({_tests(prob.count)}, e.g. {prob.example})")
            rest = probs[SHOWN_PER_KIND:]
            if rest:
                report.errors.append(
                    f"and {len(rest)} more problems of this kind ({kind}) in"
                    f" {_tests(sum(p.count for p in rest))}, e.g. {rest[0].text}")
        return report


def _tests(n: int) -> str:
    return f"{n} test{'' if n == 1 else 's'}"


def check_tests(tests: Iterable[PlannedTest]) -> PreflightReport:
    """Preflight over planned tests (the runner's: the pending tests of this host's queues)."""
    pre = Preflight()
    for t in tests:
        pre.add(t)
    return pre.report()

