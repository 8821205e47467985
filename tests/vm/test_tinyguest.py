"""The tiny guest's builder on a host that lacks what it needs: one line, exit 3 (INFRA).

A missing kernel or static busybox is the machine's fault, not the config's: the builder
raises ``TinyGuestError`` (not ``SystemExit``, which a library caller such as the accel
probe or a test fixture could not tell from a real exit), and ``python -m
kvmtest.vm.tinyguest build`` turns it into exit 3 with one ``error:`` line. The host's
/boot and busybox paths are pointed at a temp dir here (the system edge); nothing is mocked.
"""

from __future__ import annotations

import shutil

import pytest

from kvmtest.exitcodes import INFRA
from kvmtest.vm import tinyguest
from kvmtest.vm.tinyguest import TinyGuestError, find_busybox, find_kernel


def test_no_kernel_with_modules_names_the_package(tmp_path):
    boot, mods = tmp_path / "boot", tmp_path / "modules"
    boot.mkdir()
    (boot / "vmlinuz-6.1.0-9-amd64").write_bytes(b"kernel")  # modules of it not installed
    with pytest.raises(TinyGuestError, match="install linux-image-amd64") as err:
        find_kernel(boot, mods)
    assert str(boot) in str(err.value)
    (mods / "6.1.0-9-amd64").mkdir(parents=True)
    (mods / "6.1.0-9-amd64" / "modules.dep").write_text("")
    assert find_kernel(boot, mods) == (boot / "vmlinuz-6.1.0-9-amd64", "6.1.0-9-amd64")


def test_only_a_dynamic_busybox_names_the_static_package(tmp_path, monkeypatch):
    dynamic = tmp_path / "busybox"
    dynamic.write_bytes(b"\x7fELF....../lib64/ld-linux-x86-64.so.2\x00")
    monkeypatch.setattr(tinyguest, "BUSYBOX_PATHS", (str(tmp_path / "none"), str(dynamic)))
    with pytest.raises(TinyGuestError, match="install busybox-static"):
        find_busybox()
    static = tmp_path / "static-busybox"
    static.write_bytes(b"\x7fELF static")
    monkeypatch.setattr(tinyguest, "BUSYBOX_PATHS", (str(dynamic), str(static)))
    assert find_busybox() == static


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img not installed")
def test_build_on_a_host_without_a_kernel_is_one_line_and_exit_3(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tinyguest, "BOOT", tmp_path / "boot")  # an empty /boot
    code = tinyguest.main(["build", "--out", str(tmp_path / "tiny")])
    err = capsys.readouterr().err
    assert code == INFRA, err
    assert err.splitlines() == [f"error: cannot build the tiny guest: no {tmp_path}/boot/vmlinuz-* with"
                                " matching /lib/modules/<release>: install linux-image-amd64"]
    assert not (tmp_path / "tiny").exists()
