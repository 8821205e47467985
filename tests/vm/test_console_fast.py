"""ConsoleSession against a scripted shell over a socketpair: milliseconds, no guest.

The TCG tests (test_guest_lifecycle, test_guest_types) prove the session works with a
real kernel; these pin down what a real console does now and then: prompts after
login questions, output in pieces, bytes that are not UTF-8, kernel messages between
commands, a guest that stops answering, a qemu that goes away.
"""

from __future__ import annotations

import threading
import time

import pytest

from kvmtest.vm.console import ConsoleSession, StoppedError
from kvmtest.vm.errors import VMDeadError, VMError, VMHangError
from tests.vm.fakes import FakeShell, shell_pair

PROMPT = r"[\#\$]\s"


def session_with(tmp_path=None, on_hang=None, death_reason=None, stop=None, **shell_kw):
    ours, shell = shell_pair(**shell_kw)
    log = tmp_path / "console.log" if tmp_path is not None else None
    s = ConsoleSession(ours, "vm1", logfile=log, stop=stop, on_hang=on_hang,
                       death_reason=death_reason)
    return s, shell


def logged_in(**kw):
    s, shell = session_with(**kw)
    s.login(PROMPT, 5)
    return s, shell


def test_login_turns_echo_off_and_commands_return_status_and_output(tmp_path):
    s, shell = session_with(tmp_path, banner=b"Linux 6.1 booting\r\n[ 0.1] ok\r\n",
                            commands={"uname": (0, b"Linux\r\n")})
    s.login(PROMPT, 5)
    assert shell.received == ["stty -echo"] and not shell.echo
    assert s.cmd("uname") == (0, "Linux\n")
    assert s.cmd("nosuch") == (127, "sh: nosuch: not found\n")
    s.close()
    assert "Linux 6.1 booting" in (tmp_path / "console.log").read_text()


def test_login_answers_user_and_password_prompts():
    s, shell = session_with(login=("root", "secret"), commands={"true": (0, b"")})
    s.login(PROMPT, 5, login_prompt=r"login:\s*$", username="root", password="secret")
    assert shell.received[:2] == ["root", "secret"]
    assert s.cmd("true") == (0, "")


def test_output_in_one_byte_pieces_is_reassembled():
    out = b"line one\r\nline two\r\nno newline at the end"
    s, _ = logged_in(chunk=1, commands={"cat f": (3, out)})
    assert s.cmd("cat f") == (3, "line one\nline two\nno newline at the end")


def test_output_without_final_newline_runs_into_the_tag():
    s, _ = logged_in(commands={"printf abc": (0, b"abc")})
    assert s.cmd("printf abc") == (0, "abc")


def test_bytes_that_are_not_utf8_and_ansi_colours_do_not_break_a_command():
    junk = b"\xff\xfe\x00bin \x1b[1;34musr\x1b[0m \xc3(\r\n"
    s, _ = logged_in(commands={"ls": (0, junk)})
    status, out = s.cmd("ls")
    assert status == 0
    assert "bin usr" in out and "\x1b" not in out and "\ufffd" in out


def test_cmd_output_raises_with_the_tail_of_the_output():
    s, _ = logged_in(commands={"false": (1, b"it broke\r\n")})
    with pytest.raises(VMError, match=r"'false' exited 1: it broke"):
        s.cmd_output("false")


def test_cmd_before_login_is_a_clear_error():
    s, _ = session_with()
    with pytest.raises(VMError, match=r"cmd\(\) before login\(\)"):
        s.cmd("true")


def test_kernel_messages_printed_between_commands_are_not_the_next_commands_output():
    """A console gets printk lines at any time; what came before a command is not its output."""

    def quiet_then_noise(shell):
        threading.Timer(0.05, shell.write, [b"[   13.0] virtio_net: link up\r\n"]).start()
        return (0, b"first\r\n")

    s, _ = logged_in(commands={"one": quiet_then_noise, "two": (0, b"second\r\n")})
    assert s.cmd("one") == (0, "first\n")
    time.sleep(0.2)  # the printk arrives while no command runs
    assert s.cmd("two") == (0, "second\n")


def test_no_prompt_in_time_is_a_hang_and_the_guest_is_stopped():
    hung = []
    s, _ = session_with(prompt_on_start=False, on_hang=hung.append)
    t0 = time.monotonic()
    with pytest.raises(VMHangError, match=r"no login or shell prompt .* within 0.3 s; guest killed"):
        s.login(PROMPT, 0.3)
    assert time.monotonic() - t0 < 2 and len(hung) == 1


def test_command_that_never_finishes_is_a_hang():
    s, _ = logged_in(commands={"sleep 1000": lambda shell: None})
    with pytest.raises(VMHangError, match=r"no end of command 'sleep 1000' on the console within 0.2 s"):
        s.cmd("sleep 1000", timeout=0.2)


def test_peer_that_hangs_up_mid_command_is_dead_with_the_reason():
    def die(shell):
        shell.write(b"partial out")
        shell.hang_up()

    s, _ = logged_in(commands={"crash": die}, death_reason=lambda: "qemu (pid 1) killed by SIGKILL")
    with pytest.raises(VMDeadError, match=r"console closed while waiting for end of command 'crash'"
                                          r": qemu \(pid 1\) killed by SIGKILL"):
        s.cmd("crash", timeout=5)


def test_writing_to_a_closed_console_is_dead_not_a_crash():
    s, shell = logged_in(death_reason=lambda: "gone")
    shell.hang_up()
    time.sleep(0.05)
    with pytest.raises(VMDeadError):
        s.cmd("true", timeout=2)


def test_stop_flag_ends_a_wait_promptly():
    stop = threading.Event()
    s, _ = logged_in(stop=stop, commands={"sleep 1000": lambda shell: None})
    threading.Timer(0.1, stop.set).start()
    t0 = time.monotonic()
    with pytest.raises(StoppedError):
        s.cmd("sleep 1000", timeout=60)
    assert time.monotonic() - t0 < 1.5


def test_a_prompt_inside_command_output_does_not_end_the_command_early():
    s, _ = logged_in(commands={"echo": (0, b"cost: $ 5 # not a prompt\r\n")})
    assert s.cmd("echo") == (0, "cost: $ 5 # not a prompt\n")


def test_close_is_idempotent():
    s, shell = logged_in()
    s.close()
    s.close()
    assert s.closed
    assert shell.closed.wait(2)


def test_fake_shell_is_honest_about_echo():
    """The fixture itself: with echo on, a command line comes back (the real console does too)."""
    import socket

    ours, theirs = socket.socketpair()
    shell = FakeShell(theirs)
    shell.start()
    ours.settimeout(2)
    assert ours.recv(100) == b"# "
    ours.sendall(b"hello\n")
    data = b""
    while b"sh: hello: not found" not in data:
        data += ours.recv(100)
    assert data.startswith(b"hello\r\n")
    ours.close()
