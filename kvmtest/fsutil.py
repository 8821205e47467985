"""Atomic file writes, shared by every stage that persists state.

Results, env files and caches are rewritten while a run goes on; a reader, a
crash or a concurrent writer must see the old file or the new one, never half.
This module imports nothing from kvmtest, so any stage may use it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Union


def atomic_write(path: Union[str, Path], data: Union[str, bytes], fsync: bool = True) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory and a rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
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
