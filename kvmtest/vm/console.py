"""Shell sessions on a guest's serial console (pexpect over a unix socket, no socat).

The session never sleeps blindly: every wait is an ``expect`` in short slices
so the runner's stop flag is honoured, and it tells a dead guest (EOF on the
socket: qemu is gone) from a hung one (no prompt in time) because the caller
needs different outcomes: ERROR for the first, FAIL for the second.
"""

from __future__ import annotations

import itertools
import re
import socket
import threading
import time
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import pexpect
import pexpect.fdpexpect

from kvmtest.vm.errors import VMDeadError, VMError, VMHangError, VMPanicError

_SEQ = itertools.count(1)
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# A guest kernel in trouble, as it says so on the console (a line start, maybe a printk time).
PANIC_RE = re.compile(
    r"^[^\S\r\n]*(?:<\d>)?(?:\[\s*\d+\.\d+\]\s*)?"
    r"(?:Kernel panic - not syncing|BUG: |Oops: |general protection fault)[^\r\n]*",
    re.MULTILINE)
PANIC_TAIL = 2.0  # seconds to collect what the kernel prints after the first panic line


class StoppedError(VMError):
    """The runner asked the test to stop while we waited on the console."""


def connect_unix(path: str, timeout: float = 10.0, alive: Optional[Callable[[], bool]] = None) -> socket.socket:
    """Connect to a listening unix socket, retrying until it appears (qemu starting)."""
    deadline = time.monotonic() + timeout
    last: Optional[Exception] = None
    while time.monotonic() < deadline:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
        if alive is not None and not alive():
            raise VMDeadError(f"process exited before its console socket {path} accepted a connection")
        time.sleep(0.02)
    raise VMError(f"console socket {path} did not accept a connection within {timeout:g} s: {last}")


class ConsoleSession:
    """A shell on a serial console. ``cmd`` returns ``(status, output)``."""

    def __init__(
        self,
        sock: socket.socket,
        name: str,
        logfile: Optional[Path] = None,
        stop: Optional[threading.Event] = None,
        death_reason: Optional[Callable[[], Optional[str]]] = None,
        on_hang: Optional[Callable[[str], None]] = None,
        watch_panic: bool = True,
    ) -> None:
        self.sock = sock
        self.watch_panic = watch_panic  # every wait also looks for a kernel panic/oops/BUG
        self.name = name
        self.stop = stop or threading.Event()
        self._death_reason = death_reason
        self._on_hang = on_hang
        self._log = open(logfile, "a", encoding="utf-8", errors="replace") if logfile else None  # noqa: SIM115
        self.child = pexpect.fdpexpect.fdspawn(
            sock.fileno(), encoding="utf-8", codec_errors="replace", timeout=1
        )
        self.child.delaybeforesend = None  # pexpect sleeps 50 ms before each send by default
        if self._log is not None:
            self.child.logfile_read = self._log
        self.shell_prompt = ""
        self.closed = False

    # -- low level ----------------------------------------------------------------
    def send(self, text: str) -> None:
        try:
            self.child.send(text)
        except OSError as exc:
            self._dead(f"writing to console failed: {exc}")

    def sendline(self, text: str = "") -> None:
        self.send(text + "\n")

    def expect(self, patterns: List[str], timeout: float, what: str,
               limit: Optional[float] = None) -> Tuple[int, re.Match]:
        """Wait for one of ``patterns`` (regexes); returns (index, match).

        ``limit`` is the timeout the caller was given, for the message when this wait
        is the rest of a longer one (default: ``timeout``).
        """
        deadline = time.monotonic() + timeout
        compiled = [re.compile(p, re.MULTILINE) for p in patterns]
        if self.watch_panic:
            compiled.append(PANIC_RE)  # the earliest match wins: a panic before the prompt is seen
        while True:
            if self.stop.is_set():
                raise StoppedError(f"{self.name}: stopped while waiting for {what}")
            left = deadline - time.monotonic()
            if left <= 0:
                self._hang(f"{self.name}: no {what} on the console within "
                           f"{timeout if limit is None else limit:g} s")
            try:
                idx = self.child.expect(compiled, timeout=min(0.5, left))
                if self.watch_panic and idx == len(patterns):
                    self._panic(self.child.match.group(0))
                return idx, self.child.match
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                self._dead(f"console closed while waiting for {what}")

    def _dead(self, what: str) -> None:
        reason = None
        if self._death_reason is not None:
            for _ in range(50):  # the socket closes a moment before the process is reaped
                reason = self._death_reason()
                if reason:
                    break
                time.sleep(0.02)
        raise VMDeadError(f"{self.name}: {what}: " + (reason or "qemu closed the console"))

    def _panic(self, first: str) -> None:
        """Collect the panic's next lines (for the reason), stop the guest, raise VMPanicError."""
        text = first
        try:
            self.child.expect([r"end Kernel panic[^\r\n]*", pexpect.TIMEOUT, pexpect.EOF],
                              timeout=PANIC_TAIL)
            text += self.child.before or ""
        except (OSError, ValueError):
            pass
        lines = [ANSI_RE.sub("", ln).strip() for ln in text.replace("\r", "").splitlines()]
        lines = [ln for ln in lines if ln]
        msg = f"{self.name}: guest kernel panic: {lines[0] if lines else first.strip()}"
        detail = [ln for ln in lines[1:] if PANIC_RE.match(ln) or ln.startswith(("RIP:", "Call Trace"))]
        if detail:
            msg += " | " + " | ".join(detail[:3])
        if self._on_hang is not None:
            self._on_hang(msg)  # a panicked guest never recovers: stop it now
            msg += "; guest killed"
        raise VMPanicError(msg)

    def _hang(self, msg: str) -> None:
        if self._on_hang is not None:
            self._on_hang(msg)
            msg += "; guest killed"
        raise VMHangError(msg)

    # -- login and commands ----------------------------------------------------------
    def login(
        self,
        shell_prompt: str,
        timeout: float,
        login_prompt: str = "",
        username: str = "",
        password: str = "",
        password_prompt: str = r"[Pp]assword:\s*$",
        nudge: bool = False,
    ) -> None:
        """Wait for the shell prompt, answering login/password prompts on the way."""
        self.shell_prompt = shell_prompt
        patterns = [shell_prompt]
        if login_prompt:
            patterns += [login_prompt, password_prompt]
        if nudge:
            self.sendline()
        deadline = time.monotonic() + timeout
        while True:
            left = max(0.0, deadline - time.monotonic())
            idx, _m = self.expect(patterns, left, "login or shell prompt", limit=timeout)
            if idx == 0:
                break
            if idx == 1:
                self.sendline(username)
            elif idx == 2:
                self.sendline(password)
        # No echo: commands and their output never mix on the console.
        self.sendline("stty -echo")
        self.expect([shell_prompt], max(5.0, deadline - time.monotonic()), "shell prompt after stty",
                    limit=max(5.0, timeout))

    def drain(self) -> None:
        """Drop what the console printed since the last match (it is in the console log).

        A console gets kernel messages at any time; without this, lines printed
        between two commands would be returned as the next command's output.
        """
        try:
            while True:
                self.child.read_nonblocking(65536, timeout=0)
        except pexpect.TIMEOUT:
            pass
        except pexpect.EOF:
            self._dead("console closed")
        except OSError as exc:
            self._dead(f"reading the console failed: {exc}")
        self.child.buffer = ""

    def cmd(self, command: str, timeout: float = 60.0) -> Tuple[int, str]:
        """Run ``command`` in the guest shell; its exit status and output (CRs removed)."""
        if not self.shell_prompt:
            raise VMError(f"{self.name}: cmd() before login()")
        tag = f"KT{next(_SEQ)}RC"
        self.drain()
        self.sendline(f"{command}; echo {tag}=$?")
        _idx, m = self.expect([tag + r"=(\d+)\r?\n"], timeout, f"end of command {command!r}")
        output = self.child.before or ""
        status = int(m.group(1))
        self.expect([self.shell_prompt], timeout, "shell prompt")
        output = ANSI_RE.sub("", output.replace("\r", ""))
        return status, output

    def cmd_output(self, command: str, timeout: float = 60.0) -> str:
        """Output of a command that must succeed (VMError otherwise)."""
        status, out = self.cmd(command, timeout)
        if status != 0:
            raise VMError(f"{self.name}: {command!r} exited {status}: {out.strip()[-300:]}")
        return out

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass
        if self._log is not None:
            self._log.close()
