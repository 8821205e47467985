"""Every planned test's name and short name, kept in plan order, compressed.

A dry run of 150,000 tests must not hold 150,000 strings of ~400 characters (~60 MB),
yet the dependency check, the table's first column and the duplicate check read them
back at the end. The names of one Cartesian expansion repeat almost everything from
the test before (a tp-qemu name is ~35 words of which the last one or two change), so
``NameLog`` keeps the current batch of 256 tests as strings, then joins it and
compresses it with zlib at level 1: ~17 bytes per test for both names, and about
1.5 us per test, in one C call per batch. (A prefix tree of words, built in Python as
each name came, took 16 bytes a test too, but ~3.5 us per test on its own and twice
that inside a dry run.)

Reading in the order added decompresses each batch once; any order works (the last
few batches read are kept). Each batch also keeps the set of its names' last words, so
that the dependency check (``dep = install`` names every test whose name ends in
``.install``) decompresses only the batches that may hold a test some dep names.
"""

from __future__ import annotations

import zlib
from array import array
from typing import AbstractSet, Dict, FrozenSet, Iterator, List, Tuple, Union

BATCH = 256  # tests per compressed batch
_KEEP = 4  # decompressed batches kept for reading


class NameLog:
    """(name, short name) pairs, appended with ``add`` and read back by number (0-based)."""

    __slots__ = ("_open", "_sealed", "_read", "_ends", "_words", "_hashes")

    def __init__(self) -> None:
        self._open: List[str] = []  # the batch being filled: name, short, name, short...
        # full batches, compressed "\n"-joined; a batch with a "\n" inside a name is kept
        # as its tuple of strings (no config label has one, but the caller may be a test)
        self._sealed: List[Union[bytes, Tuple[str, ...]]] = []
        self._read: Dict[int, List[str]] = {}  # batch number -> its strings, read lately
        self._ends: List[FrozenSet[str]] = []  # per sealed batch: the last words in it
        self._words: Dict[str, str] = {}  # one string per distinct last word
        self._hashes = array("q")  # hash() of each short name of the sealed batches

    def __len__(self) -> int:
        return len(self._sealed) * BATCH + len(self._open) // 2

    def add(self, name: str, short: str) -> None:
        batch = self._open
        batch.append(name)
        batch.append(short)
        if len(batch) >= 2 * BATCH:
            self._seal()

    def _seal(self) -> None:
        batch = self._open
        words = self._words
        self._hashes.extend(map(hash, batch[1::2]))  # (one C loop a batch, not a call a test)
        ends = {s.rpartition(".")[2] for s in batch}
        self._ends.append(frozenset(words.setdefault(w, w) for w in ends))
        text = "\n".join(batch)
        if text.count("\n") == len(batch) - 1:
            self._sealed.append(zlib.compress(text.encode("utf-8", "surrogatepass"), 1))
        else:
            self._sealed.append(tuple(batch))
        self._open = []

    def _batch(self, number: int) -> List[str]:
        """The strings of batch ``number`` (name, short, name, short...)."""
        if number == len(self._sealed):
            return self._open
        got = self._read.get(number)
        if got is None:
            sealed = self._sealed[number]
            if isinstance(sealed, tuple):
                got = list(sealed)
            else:
                got = zlib.decompress(sealed).decode("utf-8", "surrogatepass").split("\n")
            if len(self._read) >= _KEEP:
                self._read.clear()
            self._read[number] = got
        return got

    def pair(self, i: int) -> Tuple[str, str]:
        """(name, short name) of the ``i``-th test added."""
        if not 0 <= i < len(self):
            raise IndexError(f"test {i} of {len(self)}")
        batch = self._batch(i // BATCH)
        k = 2 * (i % BATCH)
        return batch[k], batch[k + 1]

    def name(self, i: int) -> str:
        return self.pair(i)[0]

    def short(self, i: int) -> str:
        return self.pair(i)[1]

    def __iter__(self) -> Iterator[Tuple[str, str]]:
        """Every (name, short name) in the order added, each batch decompressed once and
        not kept."""
        for number, sealed in enumerate(self._sealed):
            got = self._read.get(number)
            if got is None:
                got = (list(sealed) if isinstance(sealed, tuple) else
                       zlib.decompress(sealed).decode("utf-8", "surrogatepass").split("\n"))
            yield from zip(got[0::2], got[1::2])
        batch = list(self._open)
        yield from zip(batch[0::2], batch[1::2])

    def ending_in(self, words: AbstractSet[str]) -> Iterator[Tuple[int, str, str]]:
        """(number, name, short name) of the tests whose name or short name may end in
        one of ``words`` (a superset: those of every batch that has such a test), in
        the order added."""
        ends = self._ends
        for number in range(len(self._sealed) + 1):
            if number < len(ends) and ends[number].isdisjoint(words):
                continue
            batch = self._batch(number)
            first = number * BATCH
            for k in range(0, len(batch), 2):
                yield first + k // 2, batch[k], batch[k + 1]

    def short_hashes(self) -> array:
        """hash() of every short name, in the order added (a new array)."""
        return self._hashes + array("q", map(hash, self._open[1::2]))

    def stored_bytes(self) -> int:
        """Bytes of the compressed batches (what the memory grows with)."""
        return sum(len(b) for b in self._sealed if isinstance(b, bytes))


__all__ = ["BATCH", "NameLog"]
