"""The guest lifecycle (defined -> booting -> ready -> stopped) is enforced, not just written.

A ``VM`` backend whose "process" is a scripted shell on a socketpair exercises the base
class's checks in milliseconds; the qemu backend's own checks run without starting qemu.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import List

import pytest

from kvmtest.vm.base import RUNNING, TRANSITIONS, VM, GuestState
from kvmtest.vm.env import GuestRecord
from kvmtest.vm.errors import VMHangError, VMStateError
from tests.vm.fakes import FakeShell
from tests.vm.guestkit import context

D, B, R, S = GuestState.DEFINED, GuestState.BOOTING, GuestState.READY, GuestState.STOPPED


class ShellVM(VM):
    """A backend whose guest is a FakeShell thread: alive until destroyed or hung up."""

    vm_type = "fake"

    def __init__(self, *a, silent: bool = False, **kw) -> None:
        super().__init__(*a, **kw)
        self.silent = silent  # never shows a prompt: a hung guest
        self.shells: List[FakeShell] = []
        self.alive = False

    def _start(self) -> None:
        self.state = GuestState.BOOTING
        Path(self.test.logdir).mkdir(parents=True, exist_ok=True)
        self.alive = True
        self.session = self._session(self._open_console())

    def _open_console(self) -> socket.socket:
        ours, theirs = socket.socketpair()
        shell = FakeShell(theirs, {"uptime": (0, b"up 1 min\r\n")}, prompt_on_start=not self.silent)
        shell.start()
        self.shells.append(shell)
        return ours

    def is_alive(self) -> bool:
        return self.alive

    def _on_hang(self, msg: str) -> None:
        self.destroy(gracefully=False)

    def destroy(self, gracefully: bool = True) -> None:
        self.alive = False
        self.close_sessions()
        for shell in self.shells:
            shell.hang_up()
        self.state = GuestState.STOPPED

    def _record(self) -> GuestRecord:
        return GuestRecord(name=self.name, vm_type="fake", pid=0, create_time=0.0, cmdline=[],
                           params_digest=self.params_digest, console="", monitor="",
                           console_log=str(self.console_log), netns="",
                           job_id=self.test.job_id, queue=self.test.queue)

    @classmethod
    def from_env(cls, record, params, test):
        raise NotImplementedError


@pytest.fixture
def make(tmp_path):
    made: List[ShellVM] = []

    def _make(**kw) -> ShellVM:
        vm = ShellVM("vm1", {"vms": "vm1", "nics": ""}, context(tmp_path, {}, "states"), **kw)
        made.append(vm)
        return vm

    yield _make
    for vm in made:
        vm.destroy()


def test_a_guest_goes_defined_booting_ready_stopped(make):
    vm = make()
    assert vm.state is D
    vm.create()
    assert vm.state is B
    session = vm.wait_for_login(5)
    assert vm.state is R and session.cmd("uptime") == (0, "up 1 min\n")
    assert vm.to_env().name == "vm1"
    vm.destroy()
    assert vm.state is S


def test_logging_in_to_a_guest_never_started_says_so(make):
    vm = make()
    with pytest.raises(VMStateError, match=r"vm1: cannot log in: the guest is defined; it was never "
                                           r"started \(create\(\) comes first; is start_vm = no\?\)"):
        vm.wait_for_login(1)


def test_logging_in_to_a_stopped_guest_says_so(make):
    vm = make()
    vm.create()
    vm.destroy()
    with pytest.raises(VMStateError, match="cannot log in: the guest is stopped"):
        vm.wait_for_login(1)


def test_starting_a_running_guest_twice_is_refused_and_a_stopped_one_restarts(make):
    vm = make()
    vm.create()
    with pytest.raises(VMStateError, match="cannot start it: the guest is booting; it is already running"):
        vm.create()
    vm.destroy()
    vm.create()
    assert vm.state is B and vm.wait_for_login(5) is vm.session


def test_env_record_only_for_a_running_guest(make):
    vm = make()
    with pytest.raises(VMStateError, match="record it in the env file"):
        vm.to_env()


def test_a_hung_guest_is_stopped_and_then_cannot_be_logged_into(make):
    vm = make(silent=True)
    vm.create()
    with pytest.raises(VMHangError, match="guest killed"):
        vm.wait_for_login(0.2)
    assert vm.state is S
    with pytest.raises(VMStateError, match="stopped"):
        vm.wait_for_login(1)


def test_reboot_goes_back_to_booting_and_login_waits_for_a_fresh_prompt(make):
    vm = make()
    vm.create()
    session = vm.wait_for_login(5)
    vm.rebooting()
    assert vm.state is B and session.shell_prompt == ""
    session.sendline("")  # the fake shell answers with a new prompt, like a rebooted guest's getty
    assert vm.wait_for_login(5) is session and vm.state is R


def test_moves_outside_the_table_are_refused(make):
    vm = make()
    vm.create()
    vm.destroy()
    with pytest.raises(VMStateError, match="a stopped guest cannot become ready"):
        vm.state = R
    assert vm.state is S


def test_transition_table_is_closed_and_every_state_can_stop():
    assert set(TRANSITIONS) == set(GuestState)
    for state, targets in TRANSITIONS.items():
        assert targets <= set(GuestState)
        assert state is S or S in targets
    assert RUNNING == {B, R}


def test_qemu_monitor_needs_a_running_guest(tmp_path):
    from kvmtest.vm.qemu import QemuVM

    vm = QemuVM("vm1", {"vms": "vm1", "nics": ""}, context(tmp_path, {}, "states-qemu"))
    with pytest.raises(VMStateError, match="cannot talk to its QMP monitor: the guest is defined"):
        vm.monitor()
    with pytest.raises(VMStateError, match="cannot log in"):
        vm.wait_for_login(1)
    vm.destroy()  # stopping a guest that never ran is fine
    assert vm.state is S
