"""Atomic file writes, shared by every stage that persists state.

Results, env files and caches are rewritten while a run goes on; a reader, a
crash or a concurrent writer must see the old file or the new one, never half.
This module imports nothing from kvmtest, so any stage may use it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union


def current_umask() -> int:
    """The process umask, read without changing it (os.umask can only set it, racing threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)  # no /proc: set and restore (a brief window for other threads)
    os.umask(old)
    return old


def atomic_write(path: Union[str, Path], data: Union[str, bytes], fsync: bool = True) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory and a rename.

    The file gets the mode an ``open(path, "w")`` would give it (0666 less the umask):
    mkstemp's private 0600 would hide results from a CI that publishes them as another user.
    """
    path = Path(path)
    import tempfile  # (here: fsutil is imported by every command, --help included)

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def detach_stdout() -> None:
    """Point fd 1 at /dev/null: its reader went away (``run.py ... | head``).

    Later prints (and Python's flush at exit) then cost nothing and raise nothing,
    so a run whose progress nobody reads any more still finishes and writes its results.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass
