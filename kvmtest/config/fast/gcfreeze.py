"""Iterators that keep the objects alive when they start (the parsed tree) out
of the cyclic GC's scans until they end (``gc.freeze()``).

Compiled with the rest of ``fast`` (mypyc): the public iterators
(``Parser.get_dicts()``, ``json_lines()``...) hand each item straight from
the compiled walk to the caller, with no interpreted generator frame between
them (one costs ~1 us an item).
"""

from __future__ import annotations

import gc

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Iterator, TypeVar

    _T = TypeVar("_T")


def frozen(items: Iterator[_T]) -> Iterator[_T]:
    """``items``, with the objects alive when the first is asked for moved out
    of the cyclic GC's way (``gc.freeze()``) until the last, for a tree parsed
    with the GC off (then no Parser holds the freeze).  Only if nothing else
    froze objects (gc.get_freeze_count() == 0): the unfreeze at the end
    (or when the iterator is closed) puts every frozen object back."""
    froze = gc.isenabled() and gc.get_freeze_count() == 0
    if froze:
        gc.freeze()
    try:
        yield from items
    finally:
        if froze:
            gc.unfreeze()


__all__ = ["frozen"]
