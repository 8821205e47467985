"""A guest kernel panic fails the test at once, with the panic text as the reason (real guests)."""

from __future__ import annotations

import time

import pytest

from kvmtest.testtypes import execute
from kvmtest.testtypes.errors import TestFail
from kvmtest.vm.console import PANIC_RE
from kvmtest.vm.env import Env
from kvmtest.vm.reaper import find_guest_processes
from tests.vm.guestkit import cleanup_job, context, have_guest_tools, job_id, tiny_params


def test_panic_lines_are_recognised_and_command_output_is_not():
    for line in ("[   12.345678] Kernel panic - not syncing: sysrq triggered crash",
                 "Kernel panic - not syncing: VFS: Unable to mount root fs",
                 "[    3.1] BUG: kernel NULL pointer dereference, address: 0000000000000000",
                 "<4>[    3.1] Oops: 0002 [#1] PREEMPT SMP NOPTI"):
        assert PANIC_RE.search(f"x\n{line}\r\n"), line
    for text in ("no BUG: here", "grep 'Kernel panic' /var/log/x", "DEBUG: fine"):
        assert not PANIC_RE.search(text), text


@pytest.mark.guest
@pytest.mark.skipif(have_guest_tools() is not None, reason=str(have_guest_tools()))
def test_panic_during_a_command_fails_at_once(tmp_path, tiny_guest):
    job = job_id("panic")
    params = tiny_params(type="shell", guest_cmd="echo c > /proc/sysrq-trigger", cmd_timeout="300")
    t = context(tmp_path, params, job)
    try:
        start = time.monotonic()
        with pytest.raises(TestFail) as info:
            execute(t, Env(tmp_path / "env.json"))
        took = time.monotonic() - start
        assert "vm1: guest kernel panic: " in str(info.value)
        assert "Kernel panic - not syncing: sysrq triggered crash" in str(info.value)
        assert took < 120, f"noticed after {took:.0f} s, not at once (cmd_timeout is 300 s)"
        assert find_guest_processes(job) == []  # the panicked guest was stopped
    finally:
        cleanup_job(job)


@pytest.mark.guest
@pytest.mark.skipif(have_guest_tools() is not None, reason=str(have_guest_tools()))
def test_panic_at_boot_fails_before_the_login_timeout(tmp_path, tiny_guest):
    job = job_id("panic")
    base = tiny_params()["kernel_params"]
    params = tiny_params(type="boot", kernel_params=base + " rdinit=/nonexistent",
                         login_timeout="300")
    try:
        start = time.monotonic()
        with pytest.raises(TestFail, match="guest kernel panic: .*Kernel panic - not syncing"):
            execute(context(tmp_path, params, job), Env(tmp_path / "env.json"))
        assert time.monotonic() - start < 120
    finally:
        cleanup_job(job)
