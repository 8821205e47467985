"""Turning walk leaves into dicts."""

from __future__ import annotations

import re
from typing import Iterator, List

from .expand import JoinedLeaf, JoinPart, Leaf
from .ops import apply_op, drop_suffixes, postfix_parse


def leaf_ops(path: List[object], unpacked: set) -> Iterator[object]:
    """The leaf's op sequence: deepest node first, unpacked conditions in place."""
    for node in reversed(path):
        yield from _items(node.content, unpacked)


def _items(items: list, unpacked: set) -> Iterator[object]:
    for it in items:
        if it.is_filter:
            if it.uid in unpacked and it.content:
                yield from _items(it.content, unpacked)
        else:
            yield it


def mk_name(n1: str, n2: str) -> str:
    """avocado-vt's name for two dicts merged by ``join``."""
    same = [a == b for a, b in zip(n1, n2)]
    common = n1[: same.index(False)] if False in same else n1[: len(same)]
    cp = ".".join(common.split(".")[:-1])
    p1 = re.sub("^" + cp, "", n1)
    p2 = re.sub("^" + cp, "", n2)
    return cp + p1 + p2 if cp else p1 + "." + p2


class ExactBuilder:
    """Replays every op of a leaf on a fresh dict (simple, always exact)."""

    def __init__(self, names: List[str], longs: List[str], suffixed: bool) -> None:
        self.names = names
        self.longs = longs
        self.suffixed = suffixed

    def build(self, leaf: object) -> dict:
        if isinstance(leaf, JoinedLeaf):
            d1 = self.build(leaf.left)
            d2 = self.build(leaf.right)
            d = d1.copy()
            d.update(d2)
            d["name"] = mk_name(d1["name"], d2["name"])
            d["shortname"] = mk_name(d1["shortname"], d2["shortname"])
            return d
        if isinstance(leaf, JoinPart) and isinstance(leaf.path, JoinedLeaf):
            return self.build(leaf.path)
        longs = self.longs
        names = self.names
        d = {
            "name": ".".join([longs[i] for i in leaf.ctx]),
            "dep": leaf.dep,
            "shortname": ".".join([names[i] for i in leaf.shortname]),
        }
        suffixed = self.suffixed
        for op in leaf_ops(leaf.path, leaf.unpacked):
            apply_op(op, d, suffixed)
        postfix_parse(d)
        return d


def finish(d: dict, drop: bool) -> dict:
    return drop_suffixes(d) if drop else d


__all__ = ["ExactBuilder", "Leaf", "finish", "leaf_ops", "mk_name"]
