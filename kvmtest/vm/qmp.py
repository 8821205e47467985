"""A minimal QMP client over the guest's monitor unix socket (quit, query-status)."""

from __future__ import annotations

import json
import socket
from typing import Any, Dict, Optional


class QMPError(Exception):
    pass


class QMP:
    """One QMP connection; commands are synchronous, async events are skipped."""

    def __init__(self, path: str, timeout: float = 5.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError as exc:
            self.sock.close()
            raise QMPError(f"cannot connect to QMP socket {path}: {exc}") from None
        self._buf = b""
        greeting = self._read()
        if "QMP" not in greeting:
            self.close()
            raise QMPError(f"unexpected QMP greeting: {greeting}")
        self.cmd("qmp_capabilities")

    def _read(self) -> Dict[str, Any]:
        while b"\n" not in self._buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise QMPError("QMP connection closed")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name: str, args: Optional[Dict[str, Any]] = None, expect_close: bool = False) -> Any:
        msg: Dict[str, Any] = {"execute": name}
        if args:
            msg["arguments"] = args
        try:
            self.sock.sendall(json.dumps(msg).encode() + b"\n")
            while True:
                reply = self._read()
                if "event" in reply:
                    continue
                if "error" in reply:
                    raise QMPError(f"{name}: {reply['error'].get('desc', reply['error'])}")
                return reply.get("return")
        except (OSError, QMPError):
            if expect_close:
                return None
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
