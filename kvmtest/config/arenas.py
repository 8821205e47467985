"""Huge-page arenas for the interpreter's small objects, in the compiled build.

Parsing and expanding a config allocates tens of thousands of small objects;
each new 4 KiB page of them costs a page fault (~3 us on a VM: a tenth of an
expansion of tp-qemu's subtests.cfg).  ``_arena.c`` hands pymalloc its arenas
from one region the kernel may back with 2 MiB pages.  Installed on import of
``kvmtest.config`` in the compiled build on Linux; ``KVMTEST_HUGE_ARENAS=0``
in the environment leaves the interpreter's allocator alone.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # (typing costs ~10 ms at import: the CLI never needs it)
    from typing import Any, Dict, Optional


def _extension() -> Any:
    """The C extension, or None (the pure build, or not Linux)."""
    try:
        from . import _arena
    except ImportError:
        return None
    return _arena


def install() -> bool:
    """Install the huge-page arenas once per process; True if they serve."""
    if os.environ.get("KVMTEST_HUGE_ARENAS", "1").strip() == "0":
        return False
    ext = _extension()
    return ext is not None and bool(ext.install())


def stats() -> Optional[Dict[str, int]]:
    """The region's counters (arenas live, free, served elsewhere...), or None
    without the extension."""
    ext = _extension()
    return None if ext is None else dict(ext.stats())


__all__ = ["install", "stats"]
