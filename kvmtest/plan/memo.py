"""A memo for what the planner derives from a test's params (where it runs, its addresses).

Of ~250 params per test the planner reads ~25 (hostname, queue, ranges, guests, NICs...),
and in a Cartesian expansion those ~25 take a few dozen distinct combinations over
150,000 tests. ``ValueMemo`` keys a result by the values of every key read so far, so
the reads and checks run once per combination; a test costs one ``values_of`` call.

Why it is sound: the memoized function only reads params through ``Reads`` (which notes
the keys), and its result is the same whenever what it read is the same. Two tests that
agree on every key read by any earlier call agree on what the first one read, so the
second would read the same keys, get the same values and return the same result.
A function that iterates the params (``Reads.whole``) is not memoized.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Dict, Hashable, Iterator, List, Optional, Set, Tuple

_LIMIT = 4096  # results kept (a config with more combinations just misses more often)


class Reads(Mapping):
    """``params`` seen through ``get``, ``[]`` and ``in``, each key read noted in ``read``."""

    __slots__ = ("params", "read", "whole")

    def __init__(self, params: Mapping[str, str]) -> None:
        self.params = params
        self.read: List[str] = []
        self.whole = False  # iterated (keys, items, len...): the reads are not a key list

    def get(self, key: str, default: Any = None) -> Any:
        self.read.append(key)
        return self.params.get(key, default)

    def __getitem__(self, key: str) -> str:
        self.read.append(key)
        return self.params[key]

    def __contains__(self, key: object) -> bool:
        self.read.append(key)  # type: ignore[arg-type]
        return key in self.params

    def __iter__(self) -> Iterator[str]:
        self.whole = True
        return iter(self.params)

    def __len__(self) -> int:
        self.whole = True
        return len(self.params)


def values_of(params: Mapping[str, str], keys: Tuple[str, ...]) -> tuple:
    """``params.get(k)`` for each key (None: absent); through the params' own
    ``values_of`` when they have one (the dry run's lazy views answer it in C loops)."""
    own = getattr(params, "values_of", None)
    if own is not None:
        return own(keys)
    return tuple(map(params.get, keys))


class ValueMemo:
    """Results by the values of the keys earlier calls read (see the module doc).

    Params values must be strings (a config's are): None stands for an absent key.
    """

    def __init__(self, limit: int = _LIMIT) -> None:
        self.keys: Tuple[str, ...] = ()  # every key read by a memoized call so far
        self._known: Set[str] = set()
        self._results: Dict[Hashable, Any] = {}
        self._limit = limit
        self.misses = 0

    def signature(self, params: Mapping[str, str]) -> tuple:
        return values_of(params, self.keys)

    def lookup(self, params: Mapping[str, str]) -> Tuple[tuple, Optional[Any]]:
        """(signature, the result stored for it or None): ``signature`` and ``get`` in one
        call (the planner's per-test path: 150,000 calls in a big dry run)."""
        own = getattr(params, "values_of", None)
        signature = own(self.keys) if own is not None else tuple(map(params.get, self.keys))
        try:
            return signature, self._results.get(signature)
        except TypeError:  # an unhashable value: never stored either
            return signature, None

    def get(self, signature: tuple) -> Optional[Any]:
        """The result stored for ``signature`` (from ``signature(params)``), or None."""
        try:
            return self._results.get(signature)
        except TypeError:  # an unhashable value: never stored either
            return None

    def store(self, params: Mapping[str, str], reads: Reads, signature: tuple, result: Any) -> None:
        """Keep ``result``, computed from ``params`` through ``reads`` (``signature``: the
        signature of ``params`` before the call)."""
        self.misses += 1
        if reads.whole:
            return
        new = [k for k in dict.fromkeys(reads.read) if k not in self._known]
        if new:  # the key grows: results stored under the old one cannot be found again
            self._known.update(new)
            self.keys = self.keys + tuple(new)
            self._results.clear()
            signature = self.signature(params)
        if len(self._results) >= self._limit:
            self._results.clear()
        try:
            self._results[signature] = result
        except TypeError:
            pass


__all__ = ["Reads", "ValueMemo", "values_of"]
