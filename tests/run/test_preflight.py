"""Preflight: plan-time mistakes stop the run (and fail the dry run) before anything starts.

Through the real CLI (``cli.main`` in this process, tests/clirun.py): one error line per
distinct problem (with a count and an example test), exit 2, no results directory, no test
started.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from kvmtest.exitcodes import BAD_INPUT
from tests.clirun import run_cli

ROOT = Path(__file__).resolve().parents[2]

# two tests per problem; "ok" would run (it touches a file when it does)
HEAD = """\
variants:
    - a:
    - b:
variants:
    - ok:
        type = host_cmd
        host_cmd = touch {tmp}/ran
"""
TAIL = """\
hostname = localhost
"""
TINY = ROOT / "images" / "tiny"


def kvmtest(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli(*args, cwd=tmp)


def refused(tmp: Path, body: str, expected: str) -> None:
    """The dry run and the run both exit 2 with exactly one error line, ``expected``."""
    cfg = tmp / "t.cfg"
    cfg.write_text(HEAD.format(tmp=tmp) + body + TAIL)
    dry = kvmtest(tmp, "-c", str(cfg), "--dry-run")
    errors = [ln for ln in dry.stderr.splitlines() if ln.startswith("error:")]
    assert dry.returncode == BAD_INPUT, dry.stderr
    assert errors == [expected], errors
    assert "4 test(s) on host" in dry.stdout  # the listing is still shown
    run = kvmtest(tmp, "-c", str(cfg), "--results", str(tmp / "r"))
    assert run.returncode == BAD_INPUT, run.stdout + run.stderr
    assert [ln for ln in run.stderr.splitlines() if ln.startswith("error:")] == [expected]
    assert not (tmp / "r").exists() and not (tmp / "ran").exists()  # nothing started


def test_unknown_test_type(tmp_path):
    refused(tmp_path, "    - typo:\n        type = bot\n",
            "error: unknown test type 'bot': not built-in (boot, shell, reboot, ping, host_cmd,"
            " sleep) and no test_dirs given (2 tests, e.g. typo.a)")


def test_unknown_test_type_with_test_dirs(tmp_path):
    (tmp_path / "types").mkdir()
    refused(tmp_path, f"    - typo:\n        type = mytest\n        test_dirs = {tmp_path}/types\n",
            "error: unknown test type 'mytest': not built-in (boot, shell, reboot, ping,"
            f" host_cmd, sleep) and not found in {tmp_path}/types/mytest.py (2 tests, e.g. typo.a)")


def test_test_type_that_does_not_import(tmp_path):
    (tmp_path / "types").mkdir()
    (tmp_path / "types" / "broken.py").write_text("import no_such_module_here\n")
    refused(tmp_path, f"    - br:\n        type = broken\n        test_dirs = {tmp_path}/types\n",
            "error: test type 'broken' cannot be loaded: ModuleNotFoundError: No module named"
            " 'no_such_module_here' (2 tests, e.g. br.a)")


def guest(extra: str) -> str:
    return ("    - g:\n        type = boot\n        vms = vm1\n        images = image1\n"
            f"        image_name = {TINY}/data\n        kernel = {TINY}/vmlinuz\n"
            f"        initrd = {TINY}/initrd.img\n" + extra)


needs_tiny = pytest.mark.skipif(not (TINY / "vmlinuz").exists(), reason="needs images/tiny")


@needs_tiny
def test_unknown_vm_type(tmp_path):
    refused(tmp_path, guest("        vm_type = vbox\n"),
            "error: unknown vm_type 'vbox' for guest vm1 (known: libvirt, qemu) (2 tests, e.g. g.a)")


@needs_tiny
def test_missing_qemu_binary(tmp_path):
    refused(tmp_path, guest("        qemu_binary = /nonexistent/qemu-system-x86_64\n"),
            "error: qemu_binary '/nonexistent/qemu-system-x86_64' of guest vm1 is not an"
            " executable file nor a command on PATH (2 tests, e.g. g.a)")


@needs_tiny
def test_missing_kernel(tmp_path):
    refused(tmp_path, guest(f"        kernel = {tmp_path}/vmlinuz-missing\n"),
            f"error: kernel '{tmp_path}/vmlinuz-missing' of guest vm1: no such file"
            f" ({tmp_path}/vmlinuz-missing) (2 tests, e.g. g.a)")


@needs_tiny
def test_missing_initrd(tmp_path):
    refused(tmp_path, guest("        initrd = nosuch/initrd.img\n"),
            f"error: initrd 'nosuch/initrd.img' of guest vm1: no such file"
            f" ({ROOT.resolve()}/nosuch/initrd.img) (2 tests, e.g. g.a)")


@needs_tiny
def test_missing_image(tmp_path):
    refused(tmp_path, guest(f"        image_name = {tmp_path}/disk\n"),
            f"error: image image1 of guest vm1: no such file {tmp_path}/disk.qcow2"
            " (2 tests, e.g. g.a)")


@needs_tiny
def test_libvirt_without_a_daemon_is_one_line_saying_how_to_start_it(tmp_path):
    pytest.importorskip("libvirt")
    uri = "qemu:///system?socket=/nonexistent/libvirt-sock"
    cfg = tmp_path / "t.cfg"
    cfg.write_text(HEAD.format(tmp=tmp_path) + guest(f"        vm_type = libvirt\n"
                                                     f"        libvirt_uri = {uri}\n") + TAIL)
    run = kvmtest(tmp_path, "-c", str(cfg), "--results", str(tmp_path / "r"))
    errors = [ln for ln in run.stderr.splitlines() if ln.startswith("error:")]
    assert run.returncode == BAD_INPUT and len(errors) == 1, run.stderr
    assert errors[0].startswith(f"error: vm_type = libvirt: libvirt: cannot connect to {uri}")
    assert "scripts/libvirtd.sh start" in errors[0] and "systemctl start libvirtd" in errors[0]
    assert errors[0].endswith("(2 tests, e.g. g.a)")
    assert not (tmp_path / "r").exists()


def test_many_problems_are_grouped(tmp_path):
    """Ten distinct unknown types in 20 tests: five lines, then one 'and 5 more' line."""
    body = "".join(f"    - t{i}:\n        type = nosuch{i}\n" for i in range(10))
    cfg = tmp_path / "t.cfg"
    cfg.write_text(HEAD.format(tmp=tmp_path) + body + TAIL)
    dry = kvmtest(tmp_path, "-c", str(cfg), "--dry-run")
    errors = [ln for ln in dry.stderr.splitlines() if ln.startswith("error:")]
    assert dry.returncode == BAD_INPUT and len(errors) == 6, errors
    assert errors[-1].startswith("error: and 5 more problems of this kind (type) in 10 tests,"
                                 " e.g. unknown test type 'nosuch")


def test_acting_as_another_host_warns_instead(tmp_path):
    """Another host's files and daemons are not this machine's: warnings, exit 0."""
    cfg = tmp_path / "t.cfg"
    cfg.write_text(HEAD.format(tmp=tmp_path) + "    - typo:\n        type = bot\n"
                   + "hostname = elsewhere\n")
    dry = kvmtest(tmp_path, "-c", str(cfg), "--dry-run", "--host", "elsewhere")
    assert dry.returncode == 0, dry.stderr
    assert ("warning: unknown test type 'bot'" in dry.stderr
            and f"[checked on {socket.gethostname()}; acting as elsewhere]" in dry.stderr)


def test_a_good_plan_passes(tmp_path):
    cfg = tmp_path / "t.cfg"
    cfg.write_text(HEAD.format(tmp=tmp_path) + TAIL)
    dry = kvmtest(tmp_path, "-c", str(cfg), "--dry-run")
    assert dry.returncode == 0 and "error" not in dry.stderr, dry.stderr


def test_dry_run_shows_dependency_and_preflight_errors_together(tmp_path):
    cfg = tmp_path / "t.cfg"
    cfg.write_text("variants:\n    - @q1:\n        queue = q1\n        env = e1\n"
                   "    - @q2:\n        queue = q2\n        env = e2\n"
                   "variants:\n    - boot:\n        type = bot\n        q2:\n            no boot\n"
                   "    - migrate: boot\n        type = sleep\n        q1:\n            no migrate\n"
                   + TAIL)
    dry = kvmtest(tmp_path, "-c", str(cfg), "--dry-run")
    errors = [ln for ln in dry.stderr.splitlines() if ln.startswith("error:")]
    assert dry.returncode == BAD_INPUT and len(errors) == 2, dry.stderr
    assert "depends on 'boot', which is test boot.q1 on another queue" in errors[0]
    assert errors[1].startswith("error: unknown test type 'bot'")
