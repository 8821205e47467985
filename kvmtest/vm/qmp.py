"""A minimal QMP client over the guest's monitor unix socket (quit, query-status).

Whatever the peer does (no answer, garbage, hanging up) ends in ``QMPError``:
``QemuVM.destroy`` catches exactly that to fall back to SIGKILL.
"""

from __future__ import annotations

import json
import socket
from typing import Any, Dict, Optional


class QMPError(Exception):
    pass


class QMP:
    """One QMP connection; commands are synchronous, async events are skipped."""

    def __init__(self, path: str, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError as exc:
            self.sock.close()
            raise QMPError(f"cannot connect to QMP socket {path}: {exc}") from None
        self._buf = b""
        try:
            greeting = self._read()
            if "QMP" not in greeting:
                raise QMPError(f"unexpected QMP greeting: {greeting}")
            self.cmd("qmp_capabilities")
        except QMPError:
            self.close()
            raise

    def _read(self) -> Dict[str, Any]:
        """The next message: one JSON object per line."""
        while b"\n" not in self._buf:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise QMPError(f"no answer on the QMP socket within {self.timeout:g} s") from None
            except OSError as exc:
                raise QMPError(f"QMP connection failed: {exc}") from None
            if not chunk:
                raise QMPError("QMP connection closed")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        try:
            msg = json.loads(line)
        except ValueError:  # not JSON, or not UTF-8
            raise QMPError(f"not a QMP message (not JSON): {line[:80]!r}") from None
        if not isinstance(msg, dict):
            raise QMPError(f"not a QMP message (not a JSON object): {line[:80]!r}")
        return msg

    def cmd(self, name: str, args: Optional[Dict[str, Any]] = None, expect_close: bool = False) -> Any:
        """Run ``name``; its ``return`` value. ``expect_close``: the peer hanging up is success."""
        msg: Dict[str, Any] = {"execute": name}
        if args:
            msg["arguments"] = args
        try:
            try:
                self.sock.sendall(json.dumps(msg).encode() + b"\n")
            except OSError as exc:
                raise QMPError(f"{name}: sending failed: {exc}") from None
            while True:
                reply = self._read()
                if "event" in reply:
                    continue
                if "error" in reply:
                    err = reply["error"]
                    desc = err.get("desc", err) if isinstance(err, dict) else err
                    raise QMPError(f"{name}: {desc}")
                return reply.get("return")
        except QMPError as exc:
            if expect_close:
                return None
            if not str(exc).startswith(f"{name}:"):
                raise QMPError(f"{name}: {exc}") from None
            raise

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> QMP:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
