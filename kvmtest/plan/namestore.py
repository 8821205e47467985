"""Test names kept as a prefix tree of their dot-separated words, a few bytes per test.

The tests of one Cartesian expansion come in an order where each name shares all
but its last word or two with the one before (a tp-qemu name is ~35 words, ~400
characters). ``NameStore.add`` keeps only the words that differ from the previous
name, as nodes (parent node, word id) in two int arrays: about 2 nodes, 16 bytes,
per test where a tuple of words took ~240 bytes and the string ~430. ``text``
gives a name back; reading them in the order they were added is cheap (the last
path's strings are cached), any order works.
"""

from __future__ import annotations

from array import array
from typing import Dict, List

_CACHE_MAX = 256  # strings of recently read nodes kept (reading in order needs one path)


class NameStore:
    """Dot-separated names, each stored as the id of its last node (``add`` returns it)."""

    __slots__ = ("_words", "_ids", "_parent", "_word", "_prefixes", "_nodes", "_cache")

    def __init__(self) -> None:
        self._words: List[str] = []  # word id -> word
        self._ids: Dict[str, int] = {}  # word -> word id
        self._parent = array("i")  # node -> parent node (-1 for a name's first word)
        self._word = array("i")  # node -> word id
        # the name added last: its prefixes of 1, 2, ... words, and their nodes (one
        # path, not kept per test); a new name is compared with them, not split whole
        self._prefixes: List[str] = []
        self._nodes: List[int] = []
        self._cache: Dict[int, str] = {}  # node -> its text, for nodes read lately

    def __len__(self) -> int:
        """Nodes stored (what the memory grows with)."""
        return len(self._word)

    def add(self, name: str) -> int:
        """Store ``name``; returns its node (pass it to ``text``)."""
        prefixes, nodes = self._prefixes, self._nodes
        # the usual cases first: the previous name plus a word, or with its last word
        # changed (two string compares instead of the search below; same nodes)
        n = len(prefixes)
        if n:
            head, dot, tail = name.rpartition(".")
            if dot:
                if head == prefixes[-1]:
                    common = n
                elif n > 1 and head == prefixes[-2] and name != prefixes[-1]:
                    common = n - 1
                    del prefixes[-1], nodes[-1]
                else:
                    common = 0
                if common:
                    wid = self._ids.get(tail)
                    if wid is None:
                        wid = self._ids[tail] = len(self._words)
                        self._words.append(tail)
                    node = len(self._word)
                    self._parent.append(nodes[common - 1])
                    self._word.append(wid)
                    prefixes.append(name)
                    nodes.append(node)
                    return node
        # the longest prefix of whole words shared with the previous name: usually all
        # but its last word or two, so search from the longest
        common = len(prefixes)
        size = len(name)
        while common:
            prefix = prefixes[common - 1]
            end = len(prefix)
            if name.startswith(prefix) and (end == size or name[end] == "."):
                if end == size:  # the name again, or a prefix of the previous one
                    return nodes[common - 1]
                break
            common -= 1
        if common:
            text = prefixes[common - 1]
            rest = name[len(text) + 1:].split(".")
            parent = nodes[common - 1]
            del prefixes[common:], nodes[common:]
        else:
            text = None
            rest = name.split(".")
            parent = -1
            prefixes.clear()
            nodes.clear()
        ids, words, parents, word_of = self._ids, self._words, self._parent, self._word
        node = len(word_of)
        last = len(rest) - 1
        for k, w in enumerate(rest):
            wid = ids.get(w)
            if wid is None:
                wid = ids[w] = len(words)
                words.append(w)
            parents.append(parent)
            word_of.append(wid)
            # (the last prefix is the name itself: no copy of it)
            text = name if k == last else w if text is None else text + "." + w
            prefixes.append(text)
            nodes.append(node)
            parent = node
            node += 1
        return parent

    def last_word(self, node: int) -> str:
        return self._words[self._word[node]]

    def word_id(self, word: str) -> int:
        """The id of ``word`` (-1 when no name has it): compare with ``node_word``."""
        return self._ids.get(word, -1)

    def node_word(self, node: int) -> int:
        return self._word[node]

    def text(self, node: int) -> str:
        """The name whose last node is ``node``."""
        cache = self._cache
        found = cache.get(node)
        if found is not None:
            return found
        parents, word_of, words = self._parent, self._word, self._words
        missing = []
        while node >= 0 and node not in cache:
            missing.append(node)
            node = parents[node]
        if len(cache) > _CACHE_MAX:
            keep = cache.get(node) if node >= 0 else None
            cache.clear()
            if keep is not None:
                cache[node] = keep
        text = cache[node] if node >= 0 else None
        for m in reversed(missing):
            w = words[word_of[m]]
            text = w if text is None else text + "." + w
            cache[m] = text
        assert text is not None
        return text

