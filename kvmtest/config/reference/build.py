# ruff: noqa: UP031  (printf-style output mirrors avocado-vt's formats)
"""Turning walk leaves into dicts, the plain way: every op of a leaf replayed
on a fresh dict (the reference the fast path is checked against)."""

from __future__ import annotations

from ..errors import ParserError
from ..ops import apply_op, drop_suffixes, postfix_parse
from ..text import subst_refs
from ..tree import RESERVED, Node, Op
from .walk import JoinedLeaf, JoinPart, Leaf

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import AbstractSet, Iterator, List, Sequence, Union

    from ..tree import ContentOp, Item


def leaf_ops(path: Sequence[Node], unpacked: AbstractSet[int]) -> Iterator[ContentOp]:
    """The leaf's op sequence: deepest node first, unpacked conditions in place."""
    for node in path[::-1]:
        yield from _items(node.content, unpacked)


def _items(items: Sequence[Item], unpacked: AbstractSet[int]) -> Iterator[ContentOp]:
    for it in items:
        if it.is_filter:
            if it.uid in unpacked and it.content:
                yield from _items(it.content, unpacked)
        else:
            yield it


def mk_name(n1: str, n2: str) -> str:
    """avocado-vt's name for two dicts merged by ``join``."""
    same = [a == b for a, b in zip(n1, n2)]
    if False not in same:  # avocado-vt fails here too (ValueError)
        raise ParserError("join: cannot merge names %r and %r" % (n1, n2))
    common = n1[: same.index(False)]
    cp = ".".join(common.split(".")[:-1])
    import re  # (only join needs it: the prefix is taken as a pattern, as avocado-vt does)

    p1 = re.sub("^" + cp, "", n1)
    p2 = re.sub("^" + cp, "", n2)
    return cp + p1 + p2 if cp else p1 + "." + p2


class ExactBuilder:
    """Replays every op of a leaf on a fresh dict (simple, always exact)."""

    def __init__(self, names: List[str], longs: List[str], suffixed: bool) -> None:
        self.names = names
        self.longs = longs
        self.suffixed = suffixed

    def build(self, leaf: Union[Leaf, JoinedLeaf, JoinPart]) -> dict:
        if isinstance(leaf, JoinedLeaf):
            d1 = self.build(leaf.left)
            d2 = self.build(leaf.right)
            d = d1.copy()
            d.update(d2)
            d["name"] = mk_name(d1["name"], d2["name"])
            d["shortname"] = mk_name(d1["shortname"], d2["shortname"])
            return d
        path = leaf.path
        if isinstance(path, JoinedLeaf):  # (a JoinPart of a joined leaf)
            return self.build(path)
        longs = self.longs
        names = self.names
        d = {
            "name": ".".join([longs[i] for i in leaf.ctx]),
            "dep": leaf.dep,
            "shortname": ".".join([names[i] for i in leaf.shortname]),
        }
        suffixed = self.suffixed
        for op in leaf_ops(path, leaf.unpacked):
            apply_op(op, d, suffixed)
        postfix_parse(d)
        return d


def needs_exact(root: Node) -> bool:
    """True if some value substitutes a reserved key (``${name}`` ...).

    Those see the leaf's own name/maps while ops run, which the memoizing
    builder does not keep in its shared states.
    """
    seen = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node.uid in seen:
            continue
        seen.add(node.uid)
        items = list(node.content)
        while items:
            it = items.pop()
            if it.is_filter:
                items.extend(it.content)
            elif type(it) is Op and it.dollar:
                if any(ref[2] in RESERVED for ref in subst_refs(it.value)):
                    return True
        stack.extend(node.children)
    return False


def finish(d: dict, drop: bool) -> dict:
    return drop_suffixes(d) if drop else d


__all__ = ["ExactBuilder", "Leaf", "finish", "leaf_ops", "mk_name", "needs_exact"]
