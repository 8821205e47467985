"""Scripted peers for fast console and QMP tests: a guest shell and a QMP server, no qemu.

``FakeShell`` sits on the far end of a socketpair and behaves like the serial
console of a small Linux guest: an optional banner and login/password prompts,
a shell prompt, echo until ``stty -echo``, and for every ``CMD; echo TAG=$?``
line the scripted output of CMD followed by ``TAG=<status>`` and a new prompt.
Knobs make it misbehave the ways a real console does: output in tiny chunks,
invalid UTF-8, kernel messages between commands, never answering, hanging up.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple, Union

Reply = Union[Tuple[int, bytes], Callable[["FakeShell"], Optional[Tuple[int, bytes]]]]
TAGGED = re.compile(rb"^(.*); echo (KT\d+RC)=\$\?$")


class FakeShell(threading.Thread):
    """A guest shell on ``sock``; ``commands`` maps a command line to (status, output bytes).

    A callable reply can misbehave (sleep, hang up) and may return None to send nothing.
    Unknown commands answer ``sh: CMD: not found`` with status 127, like a real shell.
    """

    def __init__(self, sock: socket.socket, commands: Optional[Dict[str, Reply]] = None, *,
                 prompt: bytes = b"# ", banner: bytes = b"", login: Optional[Tuple[str, str]] = None,
                 chunk: int = 0, crlf: bool = True, prompt_on_start: bool = True) -> None:
        super().__init__(daemon=True)
        self.sock = sock
        self.commands = dict(commands or {})
        self.prompt = prompt
        self.banner = banner
        self.login = login
        self.chunk = chunk  # >0: write in pieces of this many bytes (partial lines)
        self.eol = b"\r\n" if crlf else b"\n"
        self.prompt_on_start = prompt_on_start
        self.echo = True
        self.received: List[str] = []  # every line the session sent
        self.closed = threading.Event()
        self._buf = b""

    # -- wire --------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        try:
            if self.chunk > 0:
                for i in range(0, len(data), self.chunk):
                    self.sock.sendall(data[i:i + self.chunk])
                    time.sleep(0.001)
            else:
                self.sock.sendall(data)
        except OSError:
            self.hang_up()

    def hang_up(self) -> None:
        """The guest side goes away (qemu died): the session sees EOF."""
        if not self.closed.is_set():
            self.closed.set()
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()

    def _line(self) -> Optional[bytes]:
        while b"\n" not in self._buf:
            try:
                data = self.sock.recv(4096)
            except OSError:
                return None
            if not data:
                return None
            self._buf += data
        line, self._buf = self._buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    # -- behaviour ---------------------------------------------------------------
    def run(self) -> None:
        self.write(self.banner)
        if self.login is not None:
            user, password = self.login
            while True:
                self.write(b"tiny login: ")
                got_user = self._line()
                if got_user is None:
                    return self.hang_up()
                self.received.append(got_user.decode(errors="replace"))
                self.write(got_user + self.eol + b"Password: ")
                got_pw = self._line()
                if got_pw is None:
                    return self.hang_up()
                self.received.append(got_pw.decode(errors="replace"))
                if (got_user.decode(), got_pw.decode()) == (user, password):
                    self.write(self.eol)
                    break
                self.write(self.eol + b"Login incorrect" + self.eol)
        if self.prompt_on_start:
            self.write(self.prompt)
        while not self.closed.is_set():
            line = self._line()
            if line is None:
                return self.hang_up()
            self.received.append(line.decode(errors="replace"))
            if self.echo:
                self.write(line + self.eol)
            self._run_line(line)

    def _run_line(self, line: bytes) -> None:
        m = TAGGED.match(line)
        command, tag = (m.group(1), m.group(2)) if m else (line, None)
        text = command.decode(errors="replace")
        if text == "stty -echo":
            self.echo = False
            reply: Optional[Tuple[int, bytes]] = (0, b"")
        elif text == "":
            reply = (0, b"")
        elif text in self.commands:
            spec = self.commands[text]
            reply = spec(self) if callable(spec) else spec
        else:
            reply = (127, b"sh: " + command + b": not found" + self.eol)
        if reply is None or self.closed.is_set():
            return
        status, out = reply
        self.write(out)
        if tag is not None:
            self.write(tag + b"=" + str(status).encode() + self.eol)
        self.write(self.prompt)


def shell_pair(**kw) -> Tuple[socket.socket, FakeShell]:
    """(the session's end, a started FakeShell on the other end)."""
    ours, theirs = socket.socketpair()
    shell = FakeShell(theirs, **kw)
    shell.start()
    return ours, shell


class FakeQMP(threading.Thread):
    """A QMP server on a unix socket: greeting, capabilities, then scripted replies.

    ``replies`` maps a command name to a list of raw lines to send (bytes, so tests can
    send garbage or split a reply), or a callable returning them.
    """

    def __init__(self, path: Path, replies: Optional[Dict[str, object]] = None, *,
                 greeting: Optional[bytes] = None, chunk: int = 0) -> None:
        super().__init__(daemon=True)
        self.path = str(path)
        self.replies = dict(replies or {})
        self.greeting = (json.dumps({"QMP": {"version": {}, "capabilities": []}}).encode() + b"\n"
                         if greeting is None else greeting)
        self.chunk = chunk
        self.commands: List[str] = []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(1)
        self.conn: Optional[socket.socket] = None

    def _send(self, data: bytes) -> None:
        assert self.conn is not None
        step = self.chunk or len(data) or 1
        for i in range(0, len(data), step):
            self.conn.sendall(data[i:i + step])
            if self.chunk:
                time.sleep(0.001)

    def run(self) -> None:
        try:
            self.conn, _ = self.server.accept()
            self._send(self.greeting)
            buf = b""
            while True:
                data = self.conn.recv(4096)
                if not data:
                    return
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    name = json.loads(line)["execute"]
                    self.commands.append(name)
                    spec = self.replies.get(name, [b'{"return": {}}\n'])
                    lines = spec(self) if callable(spec) else spec
                    if lines is None:  # hang up
                        self.conn.close()
                        return
                    for raw in lines:
                        self._send(raw)
        except OSError:
            pass

    def stop(self) -> None:
        for s in (self.conn, self.server):
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass
